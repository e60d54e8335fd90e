// Shared pieces of the netc oneDNN addon: the CPU engine, the scratch arena and argument
// helpers. Everything runs on the JavaScript thread (tfjs CPU kernels are synchronous);
// oneDNN parallelizes inside each call with OpenMP.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <dnnl.hpp>

namespace netc {

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

// Internal buffers (oneDNN's blocked layouts, scratchpads) are reused across calls, one
// growable buffer per role, so that memory does not grow with the number of cached shapes.
enum ScratchSlot { kSlotSrc, kSlotWeights, kSlotRotatedWeights, kSlotDst, kSlotPad, kSlotCount };
void* scratch(ScratchSlot slot, size_t bytes);
void releaseScratch();

/** Memory for a buffer of `bytes`: from 2 MiB up its own mapping, 2 MiB-aligned and advised
 *  onto transparent huge pages (huge-pages.cc says why); below, 64-byte-aligned malloc.
 *  Throws std::bad_alloc. freeLarge takes the same byte count back. */
void* allocateLarge(size_t bytes);
void freeLarge(void* data, size_t bytes);

/** The float data of a Float32Array argument, checked to hold exactly `expected` floats. */
float* floatData(const Napi::Value& value, size_t expected, const char* name);
/** Like floatData, but null/undefined gives nullptr. */
float* optionalFloatData(const Napi::Value& value, size_t expected, const char* name);

Napi::Value convForward(const Napi::CallbackInfo& info);
Napi::Value convBackwardData(const Napi::CallbackInfo& info);
Napi::Value convBackwardWeights(const Napi::CallbackInfo& info);
void registerEltwise(Napi::Env env, Napi::Object exports);
void registerHugePages(Napi::Env env, Napi::Object exports);

/** A convolution for the hand-written kernels (small-conv.cc, winograd.cc): NHWC x / y / dy,
 *  HWIO filter, stride 1, no dilation; top and left padding (the bottom and right ones follow
 *  from oh, ow). y = act(conv + bias + residual); activation: 0 none, else negative outputs
 *  times alpha (relu: 0). small-conv.cc takes no residual. */
struct ConvArgs {
  const float* x = nullptr;
  const float* filter = nullptr;
  const float* bias = nullptr;
  const float* residual = nullptr;
  float* y = nullptr;
  const float* dy = nullptr;
  int64_t n, h, w, c, kh, kw, oc, oh, ow, pt, pl;
  int activation = 0;
  float alpha = 0.f;
};
/** Whether small-conv.cc has kernels for these channel counts, strides and dilations. */
bool smallConvApplies(int64_t c, int64_t oc, int64_t sh, int64_t sw, int64_t dh, int64_t dw);
/** y = act(conv(x, filter) + bias). */
void smallConvForward(const ConvArgs& s);
/** dw (HWIO) and, when db is given, the bias gradient, from x and dy. */
void smallConvWeightGrad(const ConvArgs& s, float* dw, float* db);
/** Whether winograd.cc has kernels for this convolution (5x5, stride 1, no dilation, channel
 *  counts multiples of 16). */
bool winogradApplies(int64_t c, int64_t oc, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw);
/** y = act(conv(x, filter) + bias + residual); residual may be y itself. */
void winogradForward(const ConvArgs& s);
/** dw (HWIO) and, when db is given, the bias gradient, from x and dy. */
void winogradWeightGrad(const ConvArgs& s, float* dw, float* db);
/** Frees winograd.cc's buffers (they grow to the largest shape run and stay). */
void releaseWinogradBuffers();
size_t convCacheSize();
size_t convExecutions();
/** Which build of the hand-written kernels (small-conv.cc, winograd.cc) runs here: avx512,
 *  avx2 or baseline, within the instruction set oneDNN runs with. */
const char* kernelBuild();
/** Convolutions small-conv.cc's kernels ran (forward and filter gradient) since load. */
size_t smallConvExecutions();
/** Convolutions winograd.cc's kernels ran (forward, input and filter gradients) since load. */
size_t winogradExecutions();
/** Backward-weights plans that read activations in oneDNN's blocked layout (not NHWC). */
size_t blockedWeightGradPlans();
void clearConvCache();

}  // namespace netc
