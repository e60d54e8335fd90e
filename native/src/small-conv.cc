// Convolutions with 1-4 output channels (a DeepDeblur scale's last conv, 16-64 -> 3), forward
// and filter gradient, stride 1, no dilation, NHWC activations, HWIO filters. oneDNN 2.6
// vectorizes over output channels, so with 3 of them it uses 3 of 16 lanes: at 128x128 with 16
// input channels its forward ran at 42 GFLOP/s and its filter gradient at 29 (1.0 and 1.3 ms,
// against 1.0 and 1.2 ms for the 16 -> 16 conv with 5x more work). These kernels vectorize
// over input channels instead (16 at a time), block 4 pixels so that each filter vector
// loaded serves 4 FMAs, and sum the 16 lanes once per output value. conv.cc times them
// against oneDNN on a shape's first call and keeps the faster (preferSmallConv).
//
// Written with GCC vector extensions, compiled three times (AVX-512, AVX2 + FMA, baseline
// x86-64) and chosen on first use, so the addon still runs on any x86-64. All three pass the
// tests (each forced in turn on this AVX-512 machine); the AVX2 and baseline builds are ~2.8x
// slower here than oneDNN's AVX-512 kernels, so on an AVX2-only CPU it is the timing that
// decides whether they run.
// The kernels inline into functions compiled for AVX-512: returning a 64-byte vector from a
// function compiled without it would change the ABI, which GCC warns about; none is called so.
#pragma GCC diagnostic ignored "-Wpsabi"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "vectors.h"

namespace netc {

namespace {

constexpr int kLanes = lanes<v16>();

/** The 16 lanes' sum as a tree (16 + 8 + 4 lanes, then 4 scalars): a chain of 16 dependent
 *  scalar adds per output value had made the forward 3x slower. */
inline __attribute__((always_inline)) float sum(v16 v) {
  v8 low, high;
  std::memcpy(&low, &v, sizeof low);
  std::memcpy(&high, reinterpret_cast<const char*>(&v) + sizeof low, sizeof high);
  const v8 eight = low + high;
  v4 first, second;
  std::memcpy(&first, &eight, sizeof first);
  std::memcpy(&second, reinterpret_cast<const char*>(&eight) + sizeof first, sizeof second);
  const v4 four = first + second;
  return (four[0] + four[2]) + (four[1] + four[3]);
}

/** Output pixels [ow, ow + P) of output row (n, oh), taps kh in [khLo, khHi): wt is the filter
 *  as [OC][KH][KW][C]. P > 1 only where every kw tap of the P pixels lies inside the row. */
template <int OC, int P>
inline __attribute__((always_inline)) void forwardPixels(const ConvArgs& s, const float* wt, int64_t n, int64_t oh,
                                                         int64_t khLo, int64_t khHi, int64_t ow, float* out) {
  const int64_t c = s.c;
  const int64_t kwLo = std::max<int64_t>(0, s.pl - ow), kwHi = std::min<int64_t>(s.kw, s.w + s.pl - ow - (P - 1));
  v16 acc[P][OC] = {};
  for (int64_t kh = khLo; kh < khHi; kh++) {
    const float* xrow = s.x + ((n * s.h + oh + kh - s.pt) * s.w + (ow - s.pl)) * c;
    for (int64_t kw = kwLo; kw < kwHi; kw++) {
      for (int64_t cb = 0; cb < c; cb += kLanes) {
        v16 wv[OC];
        for (int o = 0; o < OC; o++) wv[o] = load<v16>(wt + ((o * s.kh + kh) * s.kw + kw) * c + cb);
        for (int p = 0; p < P; p++) {
          const v16 xv = load<v16>(xrow + (kw + p) * c + cb);
          for (int o = 0; o < OC; o++) acc[p][o] += xv * wv[o];
        }
      }
    }
  }
  for (int p = 0; p < P; p++) {
    for (int o = 0; o < OC; o++) {
      float v = sum(acc[p][o]) + (s.bias ? s.bias[o] : 0.f);
      if (s.activation != 0 && v < 0) v *= s.alpha;
      out[(ow + p) * OC + o] = v;
    }
  }
}

/** Output row `row` (= n * OH + oh) of the forward: 4 pixels at a time where all their taps
 *  lie inside the image, one at a time near the left and right borders. */
template <int OC>
inline __attribute__((always_inline)) void forwardRow(const ConvArgs& s, const float* wt, int64_t row) {
  const int64_t n = row / s.oh, oh = row % s.oh;
  const int64_t khLo = std::max<int64_t>(0, s.pt - oh), khHi = std::min<int64_t>(s.kh, s.h + s.pt - oh);
  float* out = s.y + row * s.ow * OC;
  // ow in [interiorLo, interiorHi): every kw tap inside the row.
  const int64_t interiorLo = std::min<int64_t>(s.pl, s.ow);
  const int64_t interiorHi = std::max<int64_t>(interiorLo, std::min<int64_t>(s.ow, s.w + s.pl - s.kw + 1));
  int64_t ow = 0;
  for (; ow < interiorLo; ow++) forwardPixels<OC, 1>(s, wt, n, oh, khLo, khHi, ow, out);
  for (; ow + 4 <= interiorHi; ow += 4) forwardPixels<OC, 4>(s, wt, n, oh, khLo, khHi, ow, out);
  for (; ow < s.ow; ow++) forwardPixels<OC, 1>(s, wt, n, oh, khLo, khHi, ow, out);
}

/** Adds rows [rowBegin, rowEnd)'s share of the filter gradient to dwt ([KH][KW][OC][C]) and
 *  of the bias gradient to db. */
template <int OC>
inline __attribute__((always_inline)) void weightGradRows(const ConvArgs& s, int64_t rowBegin, int64_t rowEnd, float* dwt, float* db) {
  const int64_t c = s.c;
  for (int64_t row = rowBegin; row < rowEnd; row++) {
    const int64_t n = row / s.oh, oh = row % s.oh;
    const float* dyRow = s.dy + row * s.ow * OC;
    for (int64_t ow = 0; ow < s.ow; ow++) {
      for (int o = 0; o < OC; o++) db[o] += dyRow[ow * OC + o];
    }
    const int64_t khLo = std::max<int64_t>(0, s.pt - oh), khHi = std::min<int64_t>(s.kh, s.h + s.pt - oh);
    for (int64_t kh = khLo; kh < khHi; kh++) {
      const float* xrow = s.x + ((n * s.h + oh + kh - s.pt) * s.w - s.pl) * c;  // xrow[iw * c] for iw = ow + kw - pl
      for (int64_t kw = 0; kw < s.kw; kw++) {
        const int64_t owLo = std::max<int64_t>(0, s.pl - kw), owHi = std::min<int64_t>(s.ow, s.w + s.pl - kw);
        for (int64_t cb = 0; cb < c; cb += kLanes) {
          // Four independent sums per output channel: an FMA's latency is four of its slots.
          v16 acc[4][OC] = {};
          int64_t ow = owLo;
          for (; ow + 4 <= owHi; ow += 4) {
            for (int p = 0; p < 4; p++) {
              const v16 xv = load<v16>(xrow + (ow + p + kw) * c + cb);
              for (int o = 0; o < OC; o++) acc[p][o] += xv * dyRow[(ow + p) * OC + o];
            }
          }
          for (; ow < owHi; ow++) {
            const v16 xv = load<v16>(xrow + (ow + kw) * c + cb);
            for (int o = 0; o < OC; o++) acc[0][o] += xv * dyRow[ow * OC + o];
          }
          for (int o = 0; o < OC; o++) {
            float* to = dwt + ((kh * s.kw + kw) * OC + o) * c + cb;
            const v16 total = load<v16>(to) + acc[0][o] + acc[1][o] + acc[2][o] + acc[3][o];
            store(to, total);
          }
        }
      }
    }
  }
}

// The same code for three instruction sets; OC picks the register blocking.
#define NETC_SMALL_CONV_VARIANT(SUFFIX, TARGET)                                                          \
  TARGET void forwardRows##SUFFIX(const ConvArgs& s, const float* wt, int64_t begin, int64_t end) {     \
    for (int64_t row = begin; row < end; row++) {                                                       \
      switch (s.oc) {                                                                                   \
        case 1: forwardRow<1>(s, wt, row); break;                                                       \
        case 2: forwardRow<2>(s, wt, row); break;                                                       \
        case 3: forwardRow<3>(s, wt, row); break;                                                       \
        default: forwardRow<4>(s, wt, row); break;                                                      \
      }                                                                                                 \
    }                                                                                                   \
  }                                                                                                     \
  TARGET void weightGradRows##SUFFIX(const ConvArgs& s, int64_t begin, int64_t end, float* dwt, float* db) { \
    switch (s.oc) {                                                                                     \
      case 1: weightGradRows<1>(s, begin, end, dwt, db); break;                                         \
      case 2: weightGradRows<2>(s, begin, end, dwt, db); break;                                         \
      case 3: weightGradRows<3>(s, begin, end, dwt, db); break;                                         \
      default: weightGradRows<4>(s, begin, end, dwt, db); break;                                        \
    }                                                                                                   \
  }

NETC_SMALL_CONV_VARIANT(Avx512, NETC_TARGET_AVX512)
NETC_SMALL_CONV_VARIANT(Avx2, NETC_TARGET_AVX2)
NETC_SMALL_CONV_VARIANT(Baseline, )
#undef NETC_SMALL_CONV_VARIANT

using ForwardRows = void (*)(const ConvArgs&, const float*, int64_t, int64_t);
using WeightGradRows = void (*)(const ConvArgs&, int64_t, int64_t, float*, float*);

struct Variant {
  ForwardRows forward;
  WeightGradRows weightGrad;
};

const Variant& variant() {
  static const Variant chosen = [] {
    const std::string build = kernelBuild();
    if (build == "avx512") return Variant{forwardRowsAvx512, weightGradRowsAvx512};
    if (build == "avx2") return Variant{forwardRowsAvx2, weightGradRowsAvx2};
    return Variant{forwardRowsBaseline, weightGradRowsBaseline};
  }();
  return chosen;
}

/** Whether oneDNN's effective instruction set (the CPU's, capped by ONEDNN_MAX_CPU_ISA)
 *  includes all of `isa`'s (the values are nested bit sets). */
bool oneDnnUses(dnnl_cpu_isa_t isa) { return (dnnl_get_effective_cpu_isa() & isa) == isa; }

}  // namespace

const char* kernelBuild() {
  // Within the instruction set oneDNN runs with: so that ONEDNN_MAX_CPU_ISA=AVX2 makes the
  // whole addon behave as on an AVX2-only machine.
  static const char* chosen = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        oneDnnUses(dnnl_cpu_isa_avx512_core)) {
      return "avx512";
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && oneDnnUses(dnnl_cpu_isa_avx2)) return "avx2";
    return "baseline";
  }();
  return chosen;
}

bool smallConvApplies(int64_t c, int64_t oc, int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
  return oc >= 1 && oc <= 4 && c % kLanes == 0 && sh == 1 && sw == 1 && dh == 1 && dw == 1;
}

void smallConvForward(const ConvArgs& s) {
  // [KH][KW][C][OC] -> [OC][KH][KW][C]: one output channel's taps contiguous over C.
  std::vector<float> wt(s.kh * s.kw * s.c * s.oc);
  for (int64_t tap = 0; tap < s.kh * s.kw; tap++) {
    for (int64_t ch = 0; ch < s.c; ch++) {
      for (int64_t o = 0; o < s.oc; o++) wt[(o * s.kh * s.kw + tap) * s.c + ch] = s.filter[(tap * s.c + ch) * s.oc + o];
    }
  }
  const int64_t rows = s.n * s.oh;
  const ForwardRows run = variant().forward;
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads(), thread = omp_get_thread_num();
    run(s, wt.data(), rows * thread / threads, rows * (thread + 1) / threads);
  }
}

void smallConvWeightGrad(const ConvArgs& s, float* dw, float* db) {
  const int64_t taps = s.kh * s.kw, size = taps * s.oc * s.c, rows = s.n * s.oh;
  const int threads = omp_get_max_threads();
  // Per thread: its [KH][KW][OC][C] filter sums, then OC bias sums.
  std::vector<float> partial(static_cast<size_t>(threads) * (size + s.oc), 0.f);
  const WeightGradRows run = variant().weightGrad;
#pragma omp parallel num_threads(threads)
  {
    const int64_t count = omp_get_num_threads(), thread = omp_get_thread_num();
    float* own = partial.data() + thread * (size + s.oc);
    run(s, rows * thread / count, rows * (thread + 1) / count, own, own + size);
  }
  for (int64_t tap = 0; tap < taps; tap++) {
    for (int64_t o = 0; o < s.oc; o++) {
      for (int64_t ch = 0; ch < s.c; ch++) {
        float total = 0;
        for (int t = 0; t < threads; t++) total += partial[t * (size + s.oc) + (tap * s.oc + o) * s.c + ch];
        dw[(tap * s.c + ch) * s.oc + o] = total;
      }
    }
  }
  if (db) {
    for (int64_t o = 0; o < s.oc; o++) {
      float total = 0;
      for (int t = 0; t < threads; t++) total += partial[t * (size + s.oc) + size + o];
      db[o] = total;
    }
  }
}

}  // namespace netc
