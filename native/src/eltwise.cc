// Elementwise kernels that would otherwise run as JavaScript loops in tfjs-backend-cpu.
#include <cstddef>

#include "common.h"

namespace netc {

namespace {

size_t lengthOf(const Napi::Value& value) {
  if (!value.IsTypedArray()) throw Napi::TypeError::New(value.Env(), "expected a Float32Array");
  return value.As<Napi::TypedArray>().ElementLength();
}

// activationGrad(dy, y, dx, alpha): dx = y > 0 ? dy : alpha * dy, the gradient of relu
// (alpha 0) or leaky relu (alpha >= 0) computed from the activation's output.
Napi::Value activationGrad(const Napi::CallbackInfo& info) {
  size_t n = lengthOf(info[0]);
  const float* dy = floatData(info[0], n, "dy");
  const float* y = floatData(info[1], n, "y");
  float* dx = floatData(info[2], n, "dx");
  float alpha = info[3].As<Napi::Number>().FloatValue();
#pragma omp parallel for simd if (n > (1 << 16)) schedule(static)
  for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.f ? dy[i] : alpha * dy[i];
  return info.Env().Undefined();
}

}  // namespace

void registerEltwise(Napi::Env env, Napi::Object exports) {
  exports.Set("activationGrad", Napi::Function::New(env, activationGrad));
}

}  // namespace netc
