// 5x5 convolutions (stride 1, no dilation, channel counts multiples of 16) by Winograd's
// minimal filtering F(2x2, 5x5): each 2x2 block of outputs comes from a 6x6 input tile in
// 36 multiplications per channel pair instead of 100. Forward (with bias, residual and
// ReLU/LeakyReLU fused) and filter gradient; the input gradient is a forward convolution
// (conv.cc's backwardDataAsForward), so it runs here too. oneDNN 2.6 has no Winograd kernel
// for 5x5 filters; DeepDeblur is made of them.
//
// Forward, per block of kTiles tiles (one thread's work at a time, in L2):
//   V[pos][tile][c]  = (BT d BT^T)   input tiles, transformed
//   M[pos][tile][oc] = V[pos] U[pos] 36 small GEMMs with U[pos][c][oc] = (G g G^T), the filter
//   y                = AT M AT^T     2x2 outputs per tile, + bias, + residual, activation
// Filter gradient: Z = AT^T dy AT per tile, dU[pos] += V[pos]^T Z[pos] over all tiles
// (per thread, then summed), dw = G^T dU G.
// Interpolation points 0, 1, -1, 1/2, -2 and infinity: of the sets tried (in float64 against
// float32, one tile of unit normal data), the smallest error: mean 4.0e-6 against 5.1e-6 for
// 0, +-1, +-2 and 5.9e-6 for 0, +-1, +-1/2.
//
// Written with GCC vector extensions and compiled for AVX-512, AVX2 + FMA and baseline x86-64
// like small-conv.cc; conv.cc times these kernels against oneDNN on a shape's first call.
#pragma GCC diagnostic ignored "-Wpsabi"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"

namespace netc {

namespace {

constexpr int64_t kTile = 6, kPositions = kTile * kTile, kTaps = 5;
// Tiles per block: a multiple of every build's register blocking (12, 6, 4 rows).
constexpr int64_t kTiles = 48;

typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));

template <typename V>
constexpr int64_t lanes() {
  return sizeof(V) / sizeof(float);
}

template <typename V>
inline __attribute__((always_inline)) V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename V>
inline __attribute__((always_inline)) void store(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

// The 1-D transforms; each 2-D one applies its 1-D one to the columns, then to the rows.
/** BT: 6 inputs -> 6. */
template <typename V>
inline __attribute__((always_inline)) void inputPoints(const V* d, int64_t step, V* r, int64_t outStep) {
  const V d0 = d[0], d1 = d[step], d2 = d[2 * step], d3 = d[3 * step], d4 = d[4 * step], d5 = d[5 * step];
  r[0] = d0 - 1.5f * d1 - 2.f * d2 + 1.5f * d3 + d4;
  r[outStep] = 0.5f * d2 - d1 + 2.5f * d3 + d4;
  r[2 * outStep] = d1 - 2.5f * d2 + 0.5f * d3 + d4;
  r[3 * outStep] = 2.f * (d3 - d1) - d2 + d4;
  r[4 * outStep] = 0.5f * (d1 - d3) - d2 + d4;
  r[5 * outStep] = d1 - 1.5f * d2 - 2.f * d3 + 1.5f * d4 + d5;
}

/** AT: 6 products -> 2 outputs. */
template <typename V>
inline __attribute__((always_inline)) void outputPoints(const V* m, int64_t step, V* y, int64_t outStep) {
  const V m1 = m[step], m2 = m[2 * step], m3 = m[3 * step], m4 = m[4 * step];
  y[0] = m[0] + m1 + m2 + m3 + m4;
  y[outStep] = m1 - m2 + 0.5f * m3 - 2.f * m4 + m[5 * step];
}

/** G: 5 taps -> 6. */
template <typename V>
inline __attribute__((always_inline)) void filterPoints(const V* g, int64_t step, V* u, int64_t outStep) {
  const V g0 = g[0], g1 = g[step], g2 = g[2 * step], g3 = g[3 * step], g4 = g[4 * step];
  u[0] = g0;
  u[outStep] = (g0 + g1 + g2 + g3 + g4) * (1.f / 3);
  u[2 * outStep] = (g1 + g3 - g0 - g2 - g4) * (1.f / 3);
  u[3 * outStep] = (16.f * g0 + 8.f * g1 + 4.f * g2 + 2.f * g3 + g4) * (-1.f / 15);
  u[4 * outStep] = (g0 - 2.f * g1 + 4.f * g2 - 8.f * g3 + 16.f * g4) * (1.f / 15);
  u[5 * outStep] = g4;
}

/** AT^T: 2 output gradients -> 6. */
template <typename V>
inline __attribute__((always_inline)) void outputGradPoints(const V* y, int64_t step, V* z, int64_t outStep) {
  const V y0 = y[0], y1 = y[step];
  z[0] = y0;
  z[outStep] = y0 + y1;
  z[2 * outStep] = y0 - y1;
  z[3 * outStep] = y0 + 0.5f * y1;
  z[4 * outStep] = y0 - 2.f * y1;
  z[5 * outStep] = y1;
}

/** G^T: 6 product gradients -> 5 taps. */
template <typename V>
inline __attribute__((always_inline)) void filterGradPoints(const V* u, int64_t step, V* g, int64_t outStep) {
  const V u0 = u[0], u1 = u[step], u2 = u[2 * step], u3 = u[3 * step], u4 = u[4 * step], u5 = u[5 * step];
  const V sum = u1 + u2, diff = u1 - u2;
  g[0] = u0 + diff * (1.f / 3) + (u4 - 16.f * u3) * (1.f / 15);
  g[outStep] = sum * (1.f / 3) - (8.f * u3 + 2.f * u4) * (1.f / 15);
  g[2 * outStep] = diff * (1.f / 3) + (u4 - u3) * (4.f / 15);
  g[3 * outStep] = sum * (1.f / 3) - (2.f * u3 + 8.f * u4) * (1.f / 15);
  g[4 * outStep] = diff * (1.f / 3) + (16.f * u4 - u3) * (1.f / 15) + u5;
}

/** out (R x C, as out[i * C + j]) = the 1-D transform `points` (N -> R) applied to each column
 *  of in (N x C), then (C -> C') to each row of the result. */
template <typename V, int N, int R, int C, int Cout, typename Columns, typename Rows>
inline __attribute__((always_inline)) void transform2d(const V* in, V* out, Columns columns, Rows rows) {
  V middle[R * C];
  for (int j = 0; j < C; j++) columns(in + j, C, middle + j, C);
  for (int i = 0; i < R; i++) rows(middle + i * C, 1, out + i * Cout, 1);
}

/** A block of GEMM rows: rows [0, RB) x NV vectors of columns,
 *  c[r][col] (+)= sum_k a[r * aRow + k * aK] * b[k * ldb + col]. */
template <typename V, int RB, int NV, bool Accumulate>
inline __attribute__((always_inline)) void gemmTile(const float* a, int64_t aRow, int64_t aK, const float* b, int64_t ldb,
                                                    float* c, int64_t ldc, int64_t k) {
  constexpr int64_t L = lanes<V>();
  V acc[RB][NV];
  for (int r = 0; r < RB; r++) {
    for (int v = 0; v < NV; v++) acc[r][v] = Accumulate ? load<V>(c + r * ldc + v * L) : V{};
  }
  for (int64_t i = 0; i < k; i++) {
    V bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = load<V>(b + i * ldb + v * L);
    for (int r = 0; r < RB; r++) {
      const float av = a[r * aRow + i * aK];
      for (int v = 0; v < NV; v++) acc[r][v] += av * bv[v];
    }
  }
  for (int r = 0; r < RB; r++) {
    for (int v = 0; v < NV; v++) store(c + r * ldc + v * L, acc[r][v]);
  }
}

/** Rows [0, rows) of one column block, RB rows at a time, then the rest in one smaller block. */
template <typename V, int RB, int NV, bool Accumulate>
inline __attribute__((always_inline)) void gemmRows(int64_t rows, const float* a, int64_t aRow, int64_t aK, const float* b,
                                                    int64_t ldb, float* c, int64_t ldc, int64_t k) {
  int64_t r = 0;
  for (; r + RB <= rows; r += RB) gemmTile<V, RB, NV, Accumulate>(a + r * aRow, aRow, aK, b, ldb, c + r * ldc, ldc, k);
  if constexpr (RB > 1) {
    if (r < rows) gemmRows<V, RB - 1, NV, Accumulate>(rows - r, a + r * aRow, aRow, aK, b, ldb, c + r * ldc, ldc, k);
  }
}

/** c (rows x cols, ldc) (+)= a (rows x k, strides aRow, aK) * b (k x cols, ldb); cols a
 *  multiple of the vector width. */
template <typename V, int RB, int NV, bool Accumulate>
inline __attribute__((always_inline)) void gemm(int64_t rows, int64_t cols, const float* a, int64_t aRow, int64_t aK,
                                                const float* b, int64_t ldb, float* c, int64_t ldc, int64_t k) {
  constexpr int64_t L = lanes<V>();
  int64_t col = 0;
  for (; col + NV * L <= cols; col += NV * L) gemmRows<V, RB, NV, Accumulate>(rows, a, aRow, aK, b + col, ldb, c + col, ldc, k);
  for (; col < cols; col += L) gemmRows<V, RB, 1, Accumulate>(rows, a, aRow, aK, b + col, ldb, c + col, ldc, k);
}

struct Tiles {
  int64_t across, down, count;  // tiles per row, per column, in all
  explicit Tiles(const ConvArgs& s) : across((s.ow + 1) / 2), down((s.oh + 1) / 2), count(s.n * across * down) {}
};

/** V[pos][t][c] for tiles [first, first + kTiles) (zeros past the last tile). */
template <typename V>
inline __attribute__((always_inline)) void transformInputs(const ConvArgs& s, const Tiles& tiles, int64_t first, float* v) {
  constexpr int64_t L = lanes<V>();
  const int64_t c = s.c;
  for (int64_t t = 0; t < kTiles; t++) {
    const int64_t tile = first + t;
    if (tile >= tiles.count) {
      std::memset(v + t * kPositions * c, 0, kPositions * c * sizeof(float));
      continue;
    }
    const int64_t image = tile / (tiles.across * tiles.down), ty = tile / tiles.across % tiles.down, tx = tile % tiles.across;
    const int64_t y0 = 2 * ty - s.pt, x0 = 2 * tx - s.pl;
    bool rowInside[kTile], columnInside[kTile];
    for (int i = 0; i < kTile; i++) {
      rowInside[i] = y0 + i >= 0 && y0 + i < s.h;
      columnInside[i] = x0 + i >= 0 && x0 + i < s.w;
    }
    const float* origin = s.x + ((image * s.h + y0) * s.w + x0) * c;
    for (int64_t cb = 0; cb < c; cb += L) {
      V d[kPositions], out[kPositions];
      for (int i = 0; i < kTile; i++) {
        for (int j = 0; j < kTile; j++) {
          d[i * kTile + j] = rowInside[i] && columnInside[j] ? load<V>(origin + (i * s.w + j) * c + cb) : V{};
        }
      }
      transform2d<V, 6, 6, 6, 6>(d, out, inputPoints<V>, inputPoints<V>);
      for (int64_t pos = 0; pos < kPositions; pos++) store(v + (t * kPositions + pos) * c + cb, out[pos]);
    }
  }
}

/** U[pos][c][oc] from the HWIO filter. */
template <typename V>
inline __attribute__((always_inline)) void transformFilter(const ConvArgs& s, float* u) {
  constexpr int64_t L = lanes<V>();
  for (int64_t ch = 0; ch < s.c; ch++) {
    for (int64_t ob = 0; ob < s.oc; ob += L) {
      V g[kTaps * kTaps], out[kPositions];
      for (int64_t tap = 0; tap < kTaps * kTaps; tap++) g[tap] = load<V>(s.filter + (tap * s.c + ch) * s.oc + ob);
      transform2d<V, 5, 6, 5, 6>(g, out, filterPoints<V>, filterPoints<V>);
      for (int64_t pos = 0; pos < kPositions; pos++) store(u + (pos * s.c + ch) * s.oc + ob, out[pos]);
    }
  }
}

/** y for tiles [first, first + kTiles) from M[pos][t][oc]. */
template <typename V>
inline __attribute__((always_inline)) void transformOutputs(const ConvArgs& s, const Tiles& tiles, int64_t first, const float* m) {
  constexpr int64_t L = lanes<V>();
  const int64_t oc = s.oc;
  for (int64_t t = 0; t < kTiles && first + t < tiles.count; t++) {
    const int64_t tile = first + t;
    const int64_t image = tile / (tiles.across * tiles.down), ty = tile / tiles.across % tiles.down, tx = tile % tiles.across;
    const int64_t rows = std::min<int64_t>(2, s.oh - 2 * ty), columns = std::min<int64_t>(2, s.ow - 2 * tx);
    const int64_t origin = ((image * s.oh + 2 * ty) * s.ow + 2 * tx) * oc;
    for (int64_t ob = 0; ob < oc; ob += L) {
      V in[kPositions], y[4];
      for (int64_t pos = 0; pos < kPositions; pos++) in[pos] = load<V>(m + (t * kPositions + pos) * oc + ob);
      transform2d<V, 6, 2, 6, 2>(in, y, outputPoints<V>, outputPoints<V>);
      const V bias = s.bias ? load<V>(s.bias + ob) : V{};
      for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < columns; j++) {
          const int64_t at = origin + (i * s.ow + j) * oc + ob;
          V value = y[i * 2 + j] + bias;
          if (s.residual) value += load<V>(s.residual + at);
          if (s.activation != 0) value = value < 0 ? value * s.alpha : value;
          store(s.y + at, value);
        }
      }
    }
  }
}

/** Z[pos][t][oc] = AT^T dy AT for tiles [first, first + kTiles) (zeros past the last tile,
 *  and for outputs past the bottom or right edge); adds the tiles' dy to biasSum. */
template <typename V>
inline __attribute__((always_inline)) void transformOutputGrads(const ConvArgs& s, const Tiles& tiles, int64_t first, float* z,
                                                                float* biasSum) {
  constexpr int64_t L = lanes<V>();
  const int64_t oc = s.oc;
  for (int64_t t = 0; t < kTiles; t++) {
    const int64_t tile = first + t;
    if (tile >= tiles.count) {
      std::memset(z + t * kPositions * oc, 0, kPositions * oc * sizeof(float));
      continue;
    }
    const int64_t image = tile / (tiles.across * tiles.down), ty = tile / tiles.across % tiles.down, tx = tile % tiles.across;
    const int64_t rows = std::min<int64_t>(2, s.oh - 2 * ty), columns = std::min<int64_t>(2, s.ow - 2 * tx);
    const int64_t origin = ((image * s.oh + 2 * ty) * s.ow + 2 * tx) * oc;
    for (int64_t ob = 0; ob < oc; ob += L) {
      V dy[4], out[kPositions];
      for (int64_t i = 0; i < 2; i++) {
        for (int64_t j = 0; j < 2; j++) dy[i * 2 + j] = i < rows && j < columns ? load<V>(s.dy + origin + (i * s.ow + j) * oc + ob) : V{};
      }
      store(biasSum + ob, load<V>(biasSum + ob) + (dy[0] + dy[1]) + (dy[2] + dy[3]));
      transform2d<V, 2, 6, 2, 6>(dy, out, outputGradPoints<V>, outputGradPoints<V>);
      for (int64_t pos = 0; pos < kPositions; pos++) store(z + (t * kPositions + pos) * oc + ob, out[pos]);
    }
  }
}

/** The HWIO filter gradient from dU[pos][c][oc]. */
template <typename V>
inline __attribute__((always_inline)) void filterGradFromProducts(const ConvArgs& s, const float* du, float* dw) {
  constexpr int64_t L = lanes<V>();
  for (int64_t ch = 0; ch < s.c; ch++) {
    for (int64_t ob = 0; ob < s.oc; ob += L) {
      V in[kPositions], g[kTaps * kTaps];
      for (int64_t pos = 0; pos < kPositions; pos++) in[pos] = load<V>(du + (pos * s.c + ch) * s.oc + ob);
      transform2d<V, 6, 5, 6, 5>(in, g, filterGradPoints<V>, filterGradPoints<V>);
      for (int64_t tap = 0; tap < kTaps * kTaps; tap++) store(dw + (tap * s.c + ch) * s.oc + ob, g[tap]);
    }
  }
}

/** Three buffers per thread, kept across calls (allocating ~0.5 MiB per call would map fresh
 *  pages each time); grown here, before a parallel region uses them. */
std::vector<float>* threadBuffers(int threads, size_t first, size_t second, size_t third) {
  static std::vector<std::vector<float>> buffers;
  if (buffers.size() < static_cast<size_t>(3 * threads)) buffers.resize(3 * threads);
  for (int t = 0; t < threads; t++) {
    const size_t floats[3] = {first, second, third};
    for (int i = 0; i < 3; i++) {
      if (buffers[3 * t + i].size() < floats[i]) buffers[3 * t + i].resize(floats[i]);
    }
  }
  return buffers.data();
}

/** Forward of tile blocks [begin, end), with U the transformed filter. C: the input channels
 *  when known at compile time (0: s.c). With it, the 12 rows the GEMM broadcasts from are
 *  constant offsets from one pointer; with a run-time stride GCC ran out of registers for
 *  their indices and reloaded them from the stack in the inner loop. */
template <typename V, int RB, int C>
inline __attribute__((always_inline)) void forwardBlocks(const ConvArgs& s, const float* u, int64_t begin, int64_t end,
                                                         float* v, float* m) {
  const Tiles tiles(s);
  const int64_t c = C ? C : s.c;
  for (int64_t block = begin; block < end; block++) {
    transformInputs<V>(s, tiles, block * kTiles, v);
    for (int64_t pos = 0; pos < kPositions; pos++) {
      gemm<V, RB, 2, false>(kTiles, s.oc, v + pos * c, kPositions * c, 1, u + pos * c * s.oc, s.oc, m + pos * s.oc,
                            kPositions * s.oc, c);
    }
    transformOutputs<V>(s, tiles, block * kTiles, m);
  }
}

/** Adds tile blocks [begin, end)'s dU[pos][c][oc] to du, and their dy to du's bias sums
 *  after it. */
template <typename V, int RB>
inline __attribute__((always_inline)) void weightGradBlocks(const ConvArgs& s, int64_t begin, int64_t end, float* v,
                                                            float* z, float* du) {
  const Tiles tiles(s);
  const int64_t products = kPositions * s.c * s.oc;
  for (int64_t block = begin; block < end; block++) {
    transformInputs<V>(s, tiles, block * kTiles, v);
    transformOutputGrads<V>(s, tiles, block * kTiles, z, du + products);
    for (int64_t pos = 0; pos < kPositions; pos++) {
      // dU[pos] (c x oc) += V[pos]^T (c x tiles) Z[pos] (tiles x oc)
      gemm<V, RB, 2, true>(s.c, s.oc, v + pos * s.c, 1, kPositions * s.c, z + pos * s.oc, kPositions * s.oc,
                           du + pos * s.c * s.oc, s.oc, kTiles);
    }
  }
}

// The same code for three instruction sets; RB rows x 2 vectors of accumulators fit each
// one's registers (32 zmm, 16 ymm, 16 xmm). Everything above inlines into these functions, so
// that all of it is compiled for their instruction set.
#define NETC_WINOGRAD_VARIANT(SUFFIX, TARGET, V, RB)                                                           \
  TARGET void transformFilter##SUFFIX(const ConvArgs& s, float* u) { transformFilter<V>(s, u); }               \
  TARGET void forwardBlocks##SUFFIX(const ConvArgs& s, const float* u, int64_t begin, int64_t end, float* v,  \
                                    float* m) {                                                                \
    switch (s.c) {                                                                                             \
      case 16: forwardBlocks<V, RB, 16>(s, u, begin, end, v, m); break;                                       \
      case 32: forwardBlocks<V, RB, 32>(s, u, begin, end, v, m); break;                                       \
      case 64: forwardBlocks<V, RB, 64>(s, u, begin, end, v, m); break;                                       \
      default: forwardBlocks<V, RB, 0>(s, u, begin, end, v, m); break;                                        \
    }                                                                                                          \
  }                                                                                                            \
  TARGET void weightGradBlocks##SUFFIX(const ConvArgs& s, int64_t begin, int64_t end, float* v, float* z,     \
                                       float* du) {                                                            \
    weightGradBlocks<V, RB>(s, begin, end, v, z, du);                                                          \
  }                                                                                                            \
  TARGET void filterGrad##SUFFIX(const ConvArgs& s, const float* du, float* dw) {                             \
    filterGradFromProducts<V>(s, du, dw);                                                                      \
  }

NETC_WINOGRAD_VARIANT(Avx512, __attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), v16, 12)
NETC_WINOGRAD_VARIANT(Avx2, __attribute__((target("avx2,fma"))), v8, 6)
NETC_WINOGRAD_VARIANT(Baseline, , v4, 4)
#undef NETC_WINOGRAD_VARIANT

struct Variant {
  void (*transformFilter)(const ConvArgs&, float*);
  void (*forwardBlocks)(const ConvArgs&, const float*, int64_t, int64_t, float*, float*);
  void (*weightGradBlocks)(const ConvArgs&, int64_t, int64_t, float*, float*, float*);
  void (*filterGrad)(const ConvArgs&, const float*, float*);
};

const Variant& variant() {
  static const Variant chosen = [] {
    const std::string build = kernelBuild();
    if (build == "avx512") return Variant{transformFilterAvx512, forwardBlocksAvx512, weightGradBlocksAvx512, filterGradAvx512};
    if (build == "avx2") return Variant{transformFilterAvx2, forwardBlocksAvx2, weightGradBlocksAvx2, filterGradAvx2};
    return Variant{transformFilterBaseline, forwardBlocksBaseline, weightGradBlocksBaseline, filterGradBaseline};
  }();
  return chosen;
}

int64_t blockCount(const ConvArgs& s) { return (Tiles(s).count + kTiles - 1) / kTiles; }

}  // namespace

bool winogradApplies(int64_t c, int64_t oc, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
  return kh == kTaps && kw == kTaps && sh == 1 && sw == 1 && dh == 1 && dw == 1 && c % 16 == 0 && oc % 16 == 0;
}

void winogradForward(const ConvArgs& s) {
  static std::vector<float> u;
  u.resize(kPositions * s.c * s.oc);
  variant().transformFilter(s, u.data());
  const int64_t blocks = blockCount(s);
  const int threads = omp_get_max_threads();
  std::vector<float>* buffers = threadBuffers(threads, kPositions * kTiles * s.c, kPositions * kTiles * s.oc, 0);
#pragma omp parallel num_threads(threads)
  {
    const int64_t thread = omp_get_thread_num(), count = omp_get_num_threads();
    variant().forwardBlocks(s, u.data(), blocks * thread / count, blocks * (thread + 1) / count,
                            buffers[3 * thread].data(), buffers[3 * thread + 1].data());
  }
}

void winogradWeightGrad(const ConvArgs& s, float* dw, float* db) {
  const int64_t blocks = blockCount(s), products = kPositions * s.c * s.oc;
  const int threads = omp_get_max_threads();
  // Per thread: input and output-gradient tiles, then its dU sums followed by its bias sums.
  std::vector<float>* buffers =
      threadBuffers(threads, kPositions * kTiles * s.c, kPositions * kTiles * s.oc, products + s.oc);
  // Zeroed here, not in the region: a thread that does not run must add nothing.
  for (int t = 0; t < threads; t++) std::memset(buffers[3 * t + 2].data(), 0, (products + s.oc) * sizeof(float));
#pragma omp parallel num_threads(threads)
  {
    const int64_t thread = omp_get_thread_num(), count = omp_get_num_threads();
    variant().weightGradBlocks(s, blocks * thread / count, blocks * (thread + 1) / count, buffers[3 * thread].data(),
                               buffers[3 * thread + 1].data(), buffers[3 * thread + 2].data());
  }
  float* total = buffers[2].data();
  for (int t = 1; t < threads; t++) {
    const float* own = buffers[3 * t + 2].data();
    for (int64_t i = 0; i < products + s.oc; i++) total[i] += own[i];
  }
  variant().filterGrad(s, total, dw);
  if (db) std::memcpy(db, total + products, s.oc * sizeof(float));
}

}  // namespace netc
