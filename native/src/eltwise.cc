// Elementwise kernels and reductions that tfjs-backend-cpu runs as JavaScript loops: in a
// training step they cost as much as the convolutions (broadcasts such as [1,1,1,1] x
// [1,H,W,C] even take its per-element index path). float32 only; NumPy broadcasting.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "common.h"

namespace netc {

namespace {

// Memory-bound loops gain little from threads below this size.
constexpr size_t kParallelMin = 1 << 16;

/** body(begin, end) over [0, n), split in equal static ranges over the OpenMP threads (one
 *  call below kParallelMin). The loops themselves live in plain functions on __restrict
 *  pointers, which GCC vectorizes; written as `omp parallel for simd` bodies, Adam's and the
 *  relu gradient's loops compiled to scalar code (seen in perf annotate). binding.gyp adds
 *  -fno-math-errno (sqrt) and -fno-trapping-math (selects) for the same reason; neither
 *  changes a result. Adam 35 -> 19 ms, relu gradient 47 -> 12 ms per 128x128 step. `work`:
 *  the elements the whole loop touches, when that is not n (rows of a copy). */
template <typename Body>
void parallelRanges(int64_t n, Body body, int64_t work = -1) {
  if ((work < 0 ? n : work) <= static_cast<int64_t>(kParallelMin)) {
    body(0, n);
    return;
  }
#pragma omp parallel
  {
    int64_t threads = omp_get_num_threads(), thread = omp_get_thread_num();
    body(n * thread / threads, n * (thread + 1) / threads);
  }
}

size_t lengthOf(const Napi::Value& value) {
  if (!value.IsTypedArray()) throw Napi::TypeError::New(value.Env(), "expected a Float32Array");
  return value.As<Napi::TypedArray>().ElementLength();
}

std::vector<int64_t> shapeOf(const Napi::Value& value) {
  if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), "shape must be an array");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> shape(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    shape[i] = array.Get(i).As<Napi::Number>().Int64Value();
    if (shape[i] < 0) throw Napi::RangeError::New(value.Env(), "negative dimension");
  }
  return shape;
}

size_t sizeOf(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

/** Element strides of `shape` aligned right to a rank-`rank` shape, 0 on broadcast axes. */
std::vector<int64_t> broadcastStrides(const std::vector<int64_t>& shape, size_t rank, const std::vector<int64_t>& out) {
  std::vector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (size_t i = 0; i < shape.size(); i++) {
    size_t axis = rank - 1 - i;
    size_t own = shape.size() - 1 - i;
    strides[axis] = shape[own] == 1 && out[axis] != 1 ? 0 : stride;
    stride *= shape[own];
  }
  return strides;
}

/** Calls body(aOffset, bOffset, outOffset, count, aStep, bStep) for each run along the last
 *  axis of `out` (rows [rowBegin, rowEnd) of them), walking `a` and `b` with their broadcast
 *  strides. */
template <typename Body>
void forEachRow(const std::vector<int64_t>& out, const std::vector<int64_t>& aStrides,
                const std::vector<int64_t>& bStrides, Body body, size_t rowBegin = 0, size_t rowEnd = SIZE_MAX) {
  size_t rank = out.size();
  if (rank == 0) {
    if (rowBegin == 0 && rowEnd > 0) body(0, 0, 0, 1, 0, 0);
    return;
  }
  int64_t inner = out[rank - 1];
  if (inner == 0) return;
  rowEnd = std::min(rowEnd, sizeOf(out) / inner);
  // The odometer's start: row `rowBegin` split over the outer axes.
  std::vector<int64_t> index(rank, 0);
  int64_t aOffset = 0, bOffset = 0;
  for (size_t axis = rank - 1, rest = rowBegin; axis-- > 0;) {
    index[axis] = static_cast<int64_t>(rest % out[axis]);
    rest /= out[axis];
    aOffset += index[axis] * aStrides[axis];
    bOffset += index[axis] * bStrides[axis];
  }
  for (size_t row = rowBegin; row < rowEnd; row++) {
    body(aOffset, bOffset, row * inner, inner, aStrides[rank - 1], bStrides[rank - 1]);
    // Odometer over the outer axes.
    for (size_t axis = rank - 1; axis-- > 0;) {
      index[axis]++;
      aOffset += aStrides[axis];
      bOffset += bStrides[axis];
      if (index[axis] < out[axis]) break;
      aOffset -= aStrides[axis] * out[axis];
      bOffset -= bStrides[axis] * out[axis];
      index[axis] = 0;
    }
  }
}

/** Drops size-1 axes and merges each axis into the one before it where both operands walk
 *  on across the boundary (the outer stride is the inner stride times the inner size, which
 *  holds for broadcast 0s too): x * scalar over [1, 128, 128, 3] becomes one row of 49,152
 *  instead of 16,384 rows of 3, and a bias add over [N, H, W, C] rows of C. */
void coalesce(std::vector<int64_t>& shape, std::vector<int64_t>& aStrides, std::vector<int64_t>& bStrides) {
  std::vector<int64_t> s, a, b;
  for (size_t axis = 0; axis < shape.size(); axis++) {
    if (shape[axis] == 1) continue;
    if (!s.empty() && a.back() == aStrides[axis] * shape[axis] && b.back() == bStrides[axis] * shape[axis]) {
      s.back() *= shape[axis];
      a.back() = aStrides[axis];
      b.back() = bStrides[axis];
    } else {
      s.push_back(shape[axis]);
      a.push_back(aStrides[axis]);
      b.push_back(bStrides[axis]);
    }
  }
  shape = std::move(s);
  aStrides = std::move(a);
  bStrides = std::move(b);
}

enum BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };

template <typename Op>
void elementwise(const float* __restrict a, const float* __restrict b, float* __restrict out, int64_t n, Op op) {
  for (int64_t i = 0; i < n; i++) out[i] = op(a[i], b[i]);
}

template <typename Op>
void elementwise(const float* __restrict x, float* __restrict out, int64_t n, Op op) {
  for (int64_t i = 0; i < n; i++) out[i] = op(x[i]);
}

template <typename Op>
void binaryLoop(const float* a, const std::vector<int64_t>& aStrides, const float* b,
                const std::vector<int64_t>& bStrides, float* out, const std::vector<int64_t>& outShape, bool same,
                Op op) {
  if (same) {
    parallelRanges(static_cast<int64_t>(sizeOf(outShape)), [=](int64_t begin, int64_t end) {
      elementwise(a + begin, b + begin, out + begin, end - begin, op);
    });
    return;
  }
  std::vector<int64_t> shape = outShape, aWalk = aStrides, bWalk = bStrides;
  coalesce(shape, aWalk, bWalk);
  const int64_t inner = shape.empty() ? 1 : shape.back();
  const int64_t rows = inner == 0 ? 0 : static_cast<int64_t>(sizeOf(shape)) / inner;
  auto rowRun = [=](int64_t ao, int64_t bo, int64_t oo, int64_t count, int64_t as, int64_t bs) {
    const float* ap = a + ao;
    const float* bp = b + bo;
    float* row = out + oo;
    if (as == 1 && bs == 1) {
      for (int64_t i = 0; i < count; i++) row[i] = op(ap[i], bp[i]);
    } else if (as == 1 && bs == 0) {
      float bv = *bp;
      for (int64_t i = 0; i < count; i++) row[i] = op(ap[i], bv);
    } else if (as == 0 && bs == 1) {
      float av = *ap;
      for (int64_t i = 0; i < count; i++) row[i] = op(av, bp[i]);
    } else {
      for (int64_t i = 0; i < count; i++) row[i] = op(ap[i * as], bp[i * bs]);
    }
  };
  if (rows == 1) {  // one long row (x op scalar): split the row itself
    const int64_t as = aWalk.empty() ? 0 : aWalk.back(), bs = bWalk.empty() ? 0 : bWalk.back();
    parallelRanges(inner, [=](int64_t begin, int64_t end) { rowRun(begin * as, begin * bs, begin, end - begin, as, bs); });
    return;
  }
  parallelRanges(
      rows,
      [&](int64_t begin, int64_t end) {
        forEachRow(shape, aWalk, bWalk, rowRun, static_cast<size_t>(begin), static_cast<size_t>(end));
      },
      static_cast<int64_t>(sizeOf(shape)));
}

void checkBroadcast(const Napi::Env& env, const std::vector<int64_t>& shape, const std::vector<int64_t>& out, const char* name) {
  if (shape.size() > out.size()) throw Napi::RangeError::New(env, std::string(name) + " has a higher rank than out");
  for (size_t i = 0; i < shape.size(); i++) {
    int64_t d = shape[shape.size() - 1 - i], o = out[out.size() - 1 - i];
    if (d != o && d != 1) throw Napi::RangeError::New(env, std::string(name) + " does not broadcast to out");
  }
}

// binary(op, a, aShape, b, bShape, out, outShape): out = a op b with broadcasting.
Napi::Value binary(const Napi::CallbackInfo& info) {
  int op = info[0].As<Napi::Number>().Int32Value();
  std::vector<int64_t> aShape = shapeOf(info[2]), bShape = shapeOf(info[4]), outShape = shapeOf(info[6]);
  const float* a = floatData(info[1], sizeOf(aShape), "a");
  const float* b = floatData(info[3], sizeOf(bShape), "b");
  float* out = floatData(info[5], sizeOf(outShape), "out");
  checkBroadcast(info.Env(), aShape, outShape, "a");
  checkBroadcast(info.Env(), bShape, outShape, "b");
  size_t rank = outShape.size();
  std::vector<int64_t> aStrides = broadcastStrides(aShape, rank, outShape);
  std::vector<int64_t> bStrides = broadcastStrides(bShape, rank, outShape);
  bool same = sizeOf(aShape) == sizeOf(outShape) && sizeOf(bShape) == sizeOf(outShape);
  switch (op) {
    case kAdd:
      binaryLoop(a, aStrides, b, bStrides, out, outShape, same, [](float x, float y) { return x + y; });
      break;
    case kSub:
      binaryLoop(a, aStrides, b, bStrides, out, outShape, same, [](float x, float y) { return x - y; });
      break;
    case kMul:
      binaryLoop(a, aStrides, b, bStrides, out, outShape, same, [](float x, float y) { return x * y; });
      break;
    case kDiv:
      binaryLoop(a, aStrides, b, bStrides, out, outShape, same, [](float x, float y) { return x / y; });
      break;
    default:
      throw Napi::RangeError::New(info.Env(), "unknown binary op");
  }
  return info.Env().Undefined();
}

enum UnaryOp { kRelu = 0, kStep = 1, kSquare = 2, kSqrt = 3, kAbs = 4 };

template <typename Op>
void unaryLoop(const float* x, float* out, int64_t n, Op op) {
  parallelRanges(n, [=](int64_t begin, int64_t end) { elementwise(x + begin, out + begin, end - begin, op); });
}

// unary(op, x, out, alpha): relu (NaN stays NaN), step (x > 0 ? 1 : alpha; NaN stays NaN),
// square, sqrt (Adam's update), abs (an L1 loss).
Napi::Value unary(const Napi::CallbackInfo& info) {
  int op = info[0].As<Napi::Number>().Int32Value();
  size_t n = lengthOf(info[1]);
  const float* x = floatData(info[1], n, "x");
  float* out = floatData(info[2], n, "out");
  float alpha = info[3].As<Napi::Number>().FloatValue();
  int64_t count = static_cast<int64_t>(n);
  switch (op) {
    case kRelu:
      unaryLoop(x, out, count, [](float v) { return v < 0.f ? 0.f : v; });
      break;
    case kStep:
      unaryLoop(x, out, count, [alpha](float v) { return v != v ? v : v > 0.f ? 1.f : alpha; });
      break;
    case kSquare:
      unaryLoop(x, out, count, [](float v) { return v * v; });
      break;
    case kSqrt:
      unaryLoop(x, out, count, [](float v) { return std::sqrt(v); });
      break;
    case kAbs:
      unaryLoop(x, out, count, [](float v) { return std::fabs(v); });
      break;
    default:
      throw Napi::RangeError::New(info.Env(), "unknown unary op");
  }
  return info.Env().Undefined();
}

/** out[j] = scale * sum over i of x[i * width + j] (a bias gradient: the sum over N, H, W),
 *  each thread summing a block of rows in double, the blocks added in thread order. */
void sumRowsParallel(const float* x, size_t rows, size_t width, double scale, float* out) {
  int threads = omp_get_max_threads();
  std::vector<double> partial(static_cast<size_t>(threads) * width, 0.0);
#pragma omp parallel num_threads(threads)
  {
    int thread = omp_get_thread_num();
    int count = omp_get_num_threads();
    size_t begin = rows * thread / count, end = rows * (thread + 1) / count;
    double* sums = partial.data() + static_cast<size_t>(thread) * width;
    for (size_t row = begin; row < end; row++) {
      const float* xp = x + row * width;
      for (size_t j = 0; j < width; j++) sums[j] += xp[j];
    }
  }
  for (size_t j = 0; j < width; j++) {
    double sum = 0;
    for (int t = 0; t < threads; t++) sum += partial[static_cast<size_t>(t) * width + j];
    out[j] = static_cast<float>(sum * scale);
  }
}

// reduceSum(x, shape, reduced, out, scale): out = scale * sum of x over the axes where
// reduced[axis] is true (out holds the kept axes in order). Accumulates in double.
Napi::Value reduceSum(const Napi::CallbackInfo& info) {
  std::vector<int64_t> shape = shapeOf(info[1]);
  Napi::Array reducedArray = info[2].As<Napi::Array>();
  if (reducedArray.Length() != shape.size()) throw Napi::RangeError::New(info.Env(), "reduced axes length mismatch");
  std::vector<bool> reduced(shape.size());
  std::vector<int64_t> outShape;
  for (size_t axis = 0; axis < shape.size(); axis++) {
    reduced[axis] = reducedArray.Get(axis).ToBoolean().Value();
    if (!reduced[axis]) outShape.push_back(shape[axis]);
  }
  // Walking x in order, the sum it adds to moves by these strides (0 on reduced axes).
  std::vector<int64_t> sumStrides(shape.size(), 0);
  int64_t stride = 1;
  for (size_t axis = shape.size(); axis-- > 0;) {
    if (reduced[axis]) continue;
    sumStrides[axis] = stride;
    stride *= shape[axis];
  }
  const float* x = floatData(info[0], sizeOf(shape), "x");
  float* out = floatData(info[3], sizeOf(outShape), "out");
  double scale = info[4].As<Napi::Number>().DoubleValue();
  size_t leading = 0;  // reduced axes before the first kept one
  while (leading < shape.size() && reduced[leading]) leading++;
  bool keepsSuffix = leading > 0 && std::none_of(reduced.begin() + leading, reduced.end(), [](bool r) { return r; });
  if (keepsSuffix && sizeOf(shape) > kParallelMin) {
    sumRowsParallel(x, sizeOf(shape) / std::max<size_t>(sizeOf(outShape), 1), sizeOf(outShape), scale, out);
    return info.Env().Undefined();
  }
  std::vector<double> sums(sizeOf(outShape), 0.0);
  std::vector<int64_t> unused(shape.size(), 0);
  forEachRow(shape, sumStrides, unused, [&](int64_t so, int64_t, int64_t xo, int64_t count, int64_t ss, int64_t) {
    const float* xp = x + xo;
    if (ss == 0) {
      double s = 0;
      for (int64_t i = 0; i < count; i++) s += xp[i];
      sums[so] += s;
    } else {
      double* sp = sums.data() + so;
      for (int64_t i = 0; i < count; i++) sp[i] += xp[i];
    }
  });
  for (size_t i = 0; i < sums.size(); i++) out[i] = static_cast<float>(sums[i] * scale);
  return info.Env().Undefined();
}

// activationGrad(dy, y, dx, alpha): dx = y > 0 ? dy : alpha * dy, the gradient of relu
// (alpha 0) or leaky relu (alpha >= 0) computed from the activation's output.
Napi::Value activationGrad(const Napi::CallbackInfo& info) {
  size_t n = lengthOf(info[0]);
  const float* dy = floatData(info[0], n, "dy");
  const float* y = floatData(info[1], n, "y");
  float* dx = floatData(info[2], n, "dx");
  float alpha = info[3].As<Napi::Number>().FloatValue();
  // Both sides computed, then selected: a branch per element (mispredicted half the time on
  // a relu's signs) made this 5x slower; binding.gyp's -fno-trapping-math lets GCC if-convert.
  parallelRanges(static_cast<int64_t>(n), [=](int64_t begin, int64_t end) {
    elementwise(dy + begin, y + begin, dx + begin, end - begin, [alpha](float g, float v) {
      float scaled = alpha * g;
      return v > 0.f ? g : scaled;
    });
  });
  return info.Env().Undefined();
}

struct AdamHyper {
  float beta1, oneMinusBeta1, beta2, oneMinusBeta2, correction2, eps, stepSize;
};

/** [beta1, 1 - beta1, beta2, 1 - beta2, sqrtCorrection2, eps, stepSize] from JavaScript. */
AdamHyper adamHyper(const Napi::Value& value) {
  Napi::Array h = value.As<Napi::Array>();
  if (h.Length() != 7) throw Napi::RangeError::New(value.Env(), "adam needs 7 hyper-parameters");
  float k[7];
  for (uint32_t i = 0; i < 7; i++) k[i] = static_cast<float>(h.Get(i).As<Napi::Number>().DoubleValue());
  return {k[0], k[1], k[2], k[3], k[4], k[5], k[6]};
}

/** One element of the update, in float32, the operations and their order exactly as the
 *  composed tfjs ops (src/runtime/optim.ts), so that both give the same bits:
 *  m' = m b1 + g (1 - b1);  v' = v b2 + g^2 (1 - b2);  p' = p - m' / (sqrt(v') / c2 + eps) * stepSize */
inline void adamElement(float p, float m, float v, float g, const AdamHyper& h, float& pOut, float& mOut, float& vOut) {
  float mNext = m * h.beta1 + g * h.oneMinusBeta1;
  float vNext = v * h.beta2 + (g * g) * h.oneMinusBeta2;
  float denom = std::sqrt(vNext) / h.correction2 + h.eps;
  mOut = mNext;
  vOut = vNext;
  pOut = p - (mNext / denom) * h.stepSize;
}

void adamRange(const float* __restrict p, const float* __restrict m, const float* __restrict v, const float* __restrict g,
               float* __restrict pOut, float* __restrict mOut, float* __restrict vOut, int64_t n, AdamHyper h) {
  for (int64_t i = 0; i < n; i++) adamElement(p[i], m[i], v[i], g[i], h, pOut[i], mOut[i], vOut[i]);
}

void adamRangeInPlace(float* __restrict p, float* __restrict m, float* __restrict v, const float* __restrict g, int64_t n,
                      AdamHyper h) {
  for (int64_t i = 0; i < n; i++) adamElement(p[i], m[i], v[i], g[i], h, p[i], m[i], v[i]);
}

// adam(p, m, v, g, pOut, mOut, vOut, [beta1, 1 - beta1, beta2, 1 - beta2, sqrtCorrection2,
// eps, stepSize]): one Adam update into new arrays (adamElement).
Napi::Value adam(const Napi::CallbackInfo& info) {
  size_t n = lengthOf(info[0]);
  const float* p = floatData(info[0], n, "p");
  const float* m = floatData(info[1], n, "m");
  const float* v = floatData(info[2], n, "v");
  const float* g = floatData(info[3], n, "g");
  float* pOut = floatData(info[4], n, "pOut");
  float* mOut = floatData(info[5], n, "mOut");
  float* vOut = floatData(info[6], n, "vOut");
  const AdamHyper h = adamHyper(info[7]);
  parallelRanges(static_cast<int64_t>(n), [=](int64_t begin, int64_t end) {
    adamRange(p + begin, m + begin, v + begin, g + begin, pOut + begin, mOut + begin, vOut + begin, end - begin, h);
  });
  return info.Env().Undefined();
}

// adamInPlace([p0, m0, v0, g0, p1, m1, v1, g1, ...], hyper): the same update for every
// parameter in one call, written over its p, m and v: four distinct arrays that no other
// tensor shares (the backend checks before it calls). A training step's 40-64 updates were
// as many tfjs kernels, each with three new tensors and three variable assignments.
Napi::Value adamInPlace(const Napi::CallbackInfo& info) {
  if (!info[0].IsArray()) throw Napi::TypeError::New(info.Env(), "adamInPlace needs an array of arrays");
  Napi::Array arrays = info[0].As<Napi::Array>();
  if (arrays.Length() % 4 != 0) throw Napi::RangeError::New(info.Env(), "adamInPlace needs p, m, v, g per parameter");
  const AdamHyper h = adamHyper(info[1]);
  for (uint32_t k = 0; k < arrays.Length(); k += 4) {
    size_t n = lengthOf(arrays.Get(k));
    float* p = floatData(arrays.Get(k), n, "p");
    float* m = floatData(arrays.Get(k + 1), n, "m");
    float* v = floatData(arrays.Get(k + 2), n, "v");
    const float* g = floatData(arrays.Get(k + 3), n, "g");
    if (p == m || p == v || m == v || g == p || g == m || g == v) throw Napi::RangeError::New(info.Env(), "adamInPlace: p, m, v and g must be distinct");
    parallelRanges(static_cast<int64_t>(n), [=](int64_t begin, int64_t end) {
      adamRangeInPlace(p + begin, m + begin, v + begin, g + begin, end - begin, h);
    });
  }
  return info.Env().Undefined();
}

void copyRowRange(const float* __restrict src, float* __restrict dst, int64_t begin, int64_t end, int64_t count,
                  int64_t srcStride, int64_t dstStride) {
  for (int64_t r = begin; r < end; r++) {
    const float* from = src + r * srcStride;
    float* to = dst + r * dstStride;
    for (int64_t i = 0; i < count; i++) to[i] = from[i];
  }
}

// copyRows(src, dst, [rows, count, srcOffset, srcStride, dstOffset, dstStride]): row r's
// `count` floats from src[srcOffset + r srcStride] to dst[dstOffset + r dstStride]. A concat
// is one call per input and a slice along one axis one call: as JavaScript loops over runs
// of 16-32 channels they cost ~0.2 s per 1280x720 concat, a tenth of the model's forward.
Napi::Value copyRows(const Napi::CallbackInfo& info) {
  Napi::Array g = info[2].As<Napi::Array>();
  if (g.Length() != 6) throw Napi::RangeError::New(info.Env(), "copyRows needs 6 integers");
  int64_t k[6];
  for (uint32_t i = 0; i < 6; i++) {
    k[i] = g.Get(i).As<Napi::Number>().Int64Value();
    if (k[i] < 0) throw Napi::RangeError::New(info.Env(), "copyRows: negative argument");
  }
  const int64_t rows = k[0], count = k[1], srcOffset = k[2], srcStride = k[3], dstOffset = k[4], dstStride = k[5];
  if (rows == 0 || count == 0) return info.Env().Undefined();
  size_t srcLength = lengthOf(info[0]), dstLength = lengthOf(info[1]);
  if (static_cast<size_t>(srcOffset + (rows - 1) * srcStride + count) > srcLength ||
      static_cast<size_t>(dstOffset + (rows - 1) * dstStride + count) > dstLength) {
    throw Napi::RangeError::New(info.Env(), "copyRows: rows out of bounds");
  }
  const float* src = floatData(info[0], srcLength, "src") + srcOffset;
  float* dst = floatData(info[1], dstLength, "dst") + dstOffset;
  parallelRanges(
      rows, [=](int64_t begin, int64_t end) { copyRowRange(src, dst, begin, end, count, srcStride, dstStride); },
      rows * count);
  return info.Env().Undefined();
}

// gather(src, dst, picks, outer, axisSize, inner): tf.gather along one axis, src viewed as
// [outer, axisSize, inner] and dst as [outer, picks.length, inner]: dst[o][k] = src[o][picks[k]]
// (the reflect padding of the Gaussian pyramid, a bilinear resize's taps).
Napi::Value gather(const Napi::CallbackInfo& info) {
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(info.Env(), "gather: picks must be an Int32Array");
  }
  Napi::Int32Array pickArray = info[2].As<Napi::Int32Array>();
  const int64_t outer = info[3].As<Napi::Number>().Int64Value(), axisSize = info[4].As<Napi::Number>().Int64Value(),
                inner = info[5].As<Napi::Number>().Int64Value(), count = static_cast<int64_t>(pickArray.ElementLength());
  if (outer < 0 || axisSize < 0 || inner < 0) throw Napi::RangeError::New(info.Env(), "gather: negative size");
  const int32_t* picks = pickArray.Data();
  for (int64_t k = 0; k < count; k++) {
    if (picks[k] < 0 || picks[k] >= axisSize) throw Napi::RangeError::New(info.Env(), "gather: index out of range");
  }
  const float* src = floatData(info[0], static_cast<size_t>(outer * axisSize * inner), "src");
  float* dst = floatData(info[1], static_cast<size_t>(outer * count * inner), "dst");
  if (count == 0 || inner == 0) return info.Env().Undefined();
  parallelRanges(
      outer * count,
      [=](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; row++) {
          const float* from = src + ((row / count) * axisSize + picks[row % count]) * inner;
          std::copy(from, from + inner, dst + row * inner);
        }
      },
      outer * count * inner);
  return info.Env().Undefined();
}

// stridedCopy(src, dst, shape, strides, offset): dst, row-major of `shape`, gets
// dst[i] = src[offset + index(i) . strides] (all strides >= 0, rank 1-8): a transpose or a
// slice along several axes in one threaded pass. pixel_shuffle is a 6-D transpose whose
// runs of 16-64 channels read every 4th float: as a JavaScript loop it took ~6 ns per
// value, ~0.13 s per 1280x720 forward of the bundled model.
Napi::Value stridedCopy(const Napi::CallbackInfo& info) {
  Napi::Array shapeArg = info[2].As<Napi::Array>(), strideArg = info[3].As<Napi::Array>();
  const uint32_t rank = shapeArg.Length();
  if (rank == 0 || rank > 8 || strideArg.Length() != rank) {
    throw Napi::RangeError::New(info.Env(), "stridedCopy: shape and strides of one rank, 1 to 8");
  }
  const int64_t offset = info[4].As<Napi::Number>().Int64Value();
  if (offset < 0) throw Napi::RangeError::New(info.Env(), "stridedCopy: negative offset");
  int64_t shape[8], stride[8], total = 1, last = offset;  // last: the largest index read
  for (uint32_t i = 0; i < rank; i++) {
    shape[i] = shapeArg.Get(i).As<Napi::Number>().Int64Value();
    stride[i] = strideArg.Get(i).As<Napi::Number>().Int64Value();
    if (shape[i] < 0 || stride[i] < 0) throw Napi::RangeError::New(info.Env(), "stridedCopy: negative extent or stride");
    total *= shape[i];
    if (shape[i] > 0) last += (shape[i] - 1) * stride[i];
  }
  if (total == 0) return info.Env().Undefined();
  if (static_cast<size_t>(last) >= lengthOf(info[0]) || static_cast<size_t>(total) > lengthOf(info[1])) {
    throw Napi::RangeError::New(info.Env(), "stridedCopy: out of bounds");
  }
  const float* src = floatData(info[0], lengthOf(info[0]), "src");
  float* dst = floatData(info[1], lengthOf(info[1]), "dst");
  const std::vector<int64_t> extents(shape, shape + rank), strides(stride, stride + rank), unused(rank, 0);
  parallelRanges(
      total / shape[rank - 1],
      [&](int64_t begin, int64_t end) {
        forEachRow(
            extents, strides, unused,
            [=](int64_t from, int64_t, int64_t to, int64_t count, int64_t step, int64_t) {
              const float* in = src + offset + from;
              float* out = dst + to;
              for (int64_t i = 0; i < count; i++) out[i] = in[i * step];
            },
            static_cast<size_t>(begin), static_cast<size_t>(end));
      },
      total);
  return info.Env().Undefined();
}

}  // namespace

void registerEltwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, binary));
  exports.Set("gather", Napi::Function::New(env, gather));
  exports.Set("unary", Napi::Function::New(env, unary));
  exports.Set("reduceSum", Napi::Function::New(env, reduceSum));
  exports.Set("activationGrad", Napi::Function::New(env, activationGrad));
  exports.Set("adam", Napi::Function::New(env, adam));
  exports.Set("adamInPlace", Napi::Function::New(env, adamInPlace));
  exports.Set("copyRows", Napi::Function::New(env, copyRows));
  exports.Set("stridedCopy", Napi::Function::New(env, stridedCopy));
}

}  // namespace netc
