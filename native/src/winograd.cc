// 5x5 convolutions (stride 1, no dilation, channel counts multiples of 16) by Winograd's
// minimal filtering F(4x4, 5x5): each 4x4 block of outputs comes from an 8x8 input tile in
// 64 multiplications per channel pair instead of 400. Forward (with bias, residual and
// ReLU/LeakyReLU fused) and filter gradient; the input gradient is a forward convolution
// (conv.cc's backwardDataAsForward), so it runs here too. oneDNN 2.6 has no Winograd kernel
// for 5x5 filters; DeepDeblur is made of them.
//
// Forward, kTiles tiles at a time (each thread an even share of the tiles):
//   V[tile][pos][c]  = B d B^T        input tiles, transformed (pos: 64 points of the tile)
//   M[tile][pos][oc] = V[pos] U[pos]  64 GEMMs (tiles x c times c x oc), U[pos][c][oc] = G g G^T
//   y                = A M A^T        4x4 outputs per tile, + bias, + residual, activation
// Filter gradient: Z = A^T dy A per tile, dU[pos] += V[pos]^T Z[pos] over all tiles
// (per thread, then summed), dw = G^T dU G.
// Accuracy, float32 against float64 (32 channels of unit normal data, filters x 0.1): largest
// output's relative error 3.3e-6 on average, 6.5e-6 at most; F(2x2, 5x5), tried first, had
// 1.0e-6 and 3.8e-6 but needs 9 multiplications per output instead of 4, and ran 1.5-1.6x
// slower (32 and 64 channels at 128x128).
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
#include "vectors.h"

namespace netc {

namespace {

// Outputs per tile side, taps per filter side, inputs per tile side.
constexpr int kOut = 4, kTaps = 5, kTile = kOut + kTaps - 1;
constexpr int64_t kPositions = kTile * kTile;

template <int Rows, int Cols>
struct Matrix {
  float at[Rows][Cols];
};

// The transforms of F(4, 5) for the points 0, 1, -1, 2, -2, 1/2, -1/2 and infinity
// (Toom-Cook; checked in exact fractions against the 1-D convolution): V = B d B^T with
// B = kInput, U = G g G^T with G = kFilter, y = A M A^T with A = kOutput.
constexpr Matrix<kTile, kTile> kInput{{
    {-1.f, 0.f, 21.f / 4, 0.f, -21.f / 4, 0.f, 1.f, 0.f},
    {0.f, 1.f, 1.f, -17.f / 4, -17.f / 4, 1.f, 1.f, 0.f},
    {0.f, -1.f, 1.f, 17.f / 4, -17.f / 4, -1.f, 1.f, 0.f},
    {0.f, 1.f / 2, 1.f / 4, -5.f / 2, -5.f / 4, 2.f, 1.f, 0.f},
    {0.f, -1.f / 2, 1.f / 4, 5.f / 2, -5.f / 4, -2.f, 1.f, 0.f},
    {0.f, 2.f, 4.f, -5.f / 2, -5.f, 1.f / 2, 1.f, 0.f},
    {0.f, -2.f, 4.f, 5.f / 2, -5.f, -1.f / 2, 1.f, 0.f},
    {0.f, -1.f, 0.f, 21.f / 4, 0.f, -21.f / 4, 0.f, 1.f},
}};
constexpr Matrix<kTile, kTaps> kFilter{{
    {-1.f, 0.f, 0.f, 0.f, 0.f},
    {-2.f / 9, -2.f / 9, -2.f / 9, -2.f / 9, -2.f / 9},
    {-2.f / 9, 2.f / 9, -2.f / 9, 2.f / 9, -2.f / 9},
    {1.f / 90, 1.f / 45, 2.f / 45, 4.f / 45, 8.f / 45},
    {1.f / 90, -1.f / 45, 2.f / 45, -4.f / 45, 8.f / 45},
    {32.f / 45, 16.f / 45, 8.f / 45, 4.f / 45, 2.f / 45},
    {32.f / 45, -16.f / 45, 8.f / 45, -4.f / 45, 2.f / 45},
    {0.f, 0.f, 0.f, 0.f, 1.f},
}};
constexpr Matrix<kOut, kTile> kOutput{{
    {1.f, 1.f, 1.f, 1.f, 1.f, 1.f, 1.f, 0.f},
    {0.f, 1.f, -1.f, 2.f, -2.f, 1.f / 2, -1.f / 2, 0.f},
    {0.f, 1.f, 1.f, 4.f, 4.f, 1.f / 4, 1.f / 4, 0.f},
    {0.f, 1.f, -1.f, 8.f, -8.f, 1.f / 8, -1.f / 8, 1.f},
}};
// Tiles transformed and multiplied at a time by one thread, their buffers in L2 (24 and 48
// measured the same at 32 and 64 channels; 96 was slower).
constexpr int64_t kTiles = 24;

/** Floats from one tile's transformed values to the next in the per-block buffers, for
 *  `channels` per position: one cache line more than they take, so that the GEMM's rows do
 *  not fall into the same L1 sets (without it, 64 x 16 floats = 4 KiB would put every row
 *  of a 16-channel conv into the same ones). */
constexpr int64_t tileStride(int64_t channels) { return kPositions * channels + 16; }

/** out[i * outStep] = sum over k of P[i][k] in[k * step], with P = m, or its transpose. Fully
 *  unrolled, so the coefficients are constants: zeros drop out, ones cost no multiply. */
template <typename V, bool Transposed, int Rows, int Cols>
inline __attribute__((always_inline)) void applyPoints(const Matrix<Rows, Cols>& m, const V* in, int64_t step, V* out,
                                                       int64_t outStep) {
  constexpr int R = Transposed ? Cols : Rows, N = Transposed ? Rows : Cols;
#pragma GCC unroll 8
  for (int i = 0; i < R; i++) {
    V sum{};
#pragma GCC unroll 8
    for (int k = 0; k < N; k++) {
      const float coefficient = Transposed ? m.at[k][i] : m.at[i][k];
      if (coefficient == 1.f) {
        sum += in[k * step];
      } else if (coefficient == -1.f) {
        sum -= in[k * step];
      } else if (coefficient != 0.f) {
        sum += coefficient * in[k * step];
      }
    }
    out[i * outStep] = sum;
  }
}

/** out (R x R) = P in P^T for in (N x N), with P = m or its transpose (R x N): P applied to
 *  the columns of in, then to the rows of the result. */
template <typename V, bool Transposed, int Rows, int Cols>
inline __attribute__((always_inline)) void transform2d(const Matrix<Rows, Cols>& m, const V* in, V* out) {
  constexpr int R = Transposed ? Cols : Rows, N = Transposed ? Rows : Cols;
  V middle[R * N];
#pragma GCC unroll 8
  for (int j = 0; j < N; j++) applyPoints<V, Transposed>(m, in + j, N, middle + j, N);
#pragma GCC unroll 8
  for (int i = 0; i < R; i++) applyPoints<V, Transposed>(m, middle + i * N, 1, out + i * R, 1);
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

/** Where one tile's outputs are: the image, their first row and column, how many of its
 *  kOut x kOut lie inside the output (fewer at the bottom and right edges), and the offset
 *  of the first in the NHWC output. */
struct TileOutputs {
  int64_t image, y, x, rows, columns, origin;
};

struct Tiles {
  int64_t across, down, count;  // tiles per row, per column, in all
  explicit Tiles(const ConvArgs& s)
      : across((s.ow + kOut - 1) / kOut), down((s.oh + kOut - 1) / kOut), count(s.n * across * down) {}

  TileOutputs outputs(const ConvArgs& s, int64_t tile) const {
    TileOutputs o;
    o.image = tile / (across * down), o.y = kOut * (tile / across % down), o.x = kOut * (tile % across);
    o.rows = std::min<int64_t>(kOut, s.oh - o.y), o.columns = std::min<int64_t>(kOut, s.ow - o.x);
    o.origin = ((o.image * s.oh + o.y) * s.ow + o.x) * s.oc;
    return o;
  }
};

/** V[t][pos][c] for the tiles first + t, t < count. */
template <typename V>
inline __attribute__((always_inline)) void transformInputs(const ConvArgs& s, const Tiles& tiles, int64_t first, int64_t count,
                                                           float* v) {
  constexpr int64_t L = lanes<V>();
  const int64_t c = s.c;
  for (int64_t t = 0; t < count; t++) {
    const TileOutputs o = tiles.outputs(s, first + t);
    const int64_t y0 = o.y - s.pt, x0 = o.x - s.pl;
    bool rowInside[kTile], columnInside[kTile];
    for (int i = 0; i < kTile; i++) {
      rowInside[i] = y0 + i >= 0 && y0 + i < s.h;
      columnInside[i] = x0 + i >= 0 && x0 + i < s.w;
    }
    const float* origin = s.x + ((o.image * s.h + y0) * s.w + x0) * c;
    for (int64_t cb = 0; cb < c; cb += L) {
      V d[kPositions], out[kPositions];
      for (int i = 0; i < kTile; i++) {
        for (int j = 0; j < kTile; j++) {
          d[i * kTile + j] = rowInside[i] && columnInside[j] ? load<V>(origin + (i * s.w + j) * c + cb) : V{};
        }
      }
      transform2d<V, false>(kInput, d, out);
      for (int64_t pos = 0; pos < kPositions; pos++) store(v + t * tileStride(c) + pos * c + cb, out[pos]);
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
      transform2d<V, false>(kFilter, g, out);
      for (int64_t pos = 0; pos < kPositions; pos++) store(u + (pos * s.c + ch) * s.oc + ob, out[pos]);
    }
  }
}

/** y for the tiles first + t, t < count, from M[t][pos][oc]. */
template <typename V>
inline __attribute__((always_inline)) void transformOutputs(const ConvArgs& s, const Tiles& tiles, int64_t first, int64_t count,
                                                            const float* m) {
  constexpr int64_t L = lanes<V>();
  const int64_t oc = s.oc;
  for (int64_t t = 0; t < count; t++) {
    const TileOutputs o = tiles.outputs(s, first + t);
    for (int64_t ob = 0; ob < oc; ob += L) {
      V in[kPositions], y[kOut * kOut];
      for (int64_t pos = 0; pos < kPositions; pos++) in[pos] = load<V>(m + t * tileStride(oc) + pos * oc + ob);
      transform2d<V, false>(kOutput, in, y);
      const V bias = s.bias ? load<V>(s.bias + ob) : V{};
      for (int64_t i = 0; i < o.rows; i++) {
        for (int64_t j = 0; j < o.columns; j++) {
          const int64_t at = o.origin + (i * s.ow + j) * oc + ob;
          V value = y[i * kOut + j] + bias;
          if (s.residual) value += load<V>(s.residual + at);
          if (s.activation != 0) value = value < 0 ? value * s.alpha : value;
          store(s.y + at, value);
        }
      }
    }
  }
}

/** Z[t][pos][oc] = A^T dy A for the tiles first + t, t < count (dy taken as zero past the
 *  bottom and right edges); adds the tiles' dy to biasSum. */
template <typename V>
inline __attribute__((always_inline)) void transformOutputGrads(const ConvArgs& s, const Tiles& tiles, int64_t first,
                                                                int64_t count, float* z, float* biasSum) {
  constexpr int64_t L = lanes<V>();
  const int64_t oc = s.oc;
  for (int64_t t = 0; t < count; t++) {
    const TileOutputs o = tiles.outputs(s, first + t);
    for (int64_t ob = 0; ob < oc; ob += L) {
      V dy[kOut * kOut], out[kPositions], sum{};
      for (int64_t i = 0; i < kOut; i++) {
        for (int64_t j = 0; j < kOut; j++) {
          dy[i * kOut + j] = i < o.rows && j < o.columns ? load<V>(s.dy + o.origin + (i * s.ow + j) * oc + ob) : V{};
          sum += dy[i * kOut + j];
        }
      }
      store(biasSum + ob, load<V>(biasSum + ob) + sum);
      transform2d<V, true>(kOutput, dy, out);
      for (int64_t pos = 0; pos < kPositions; pos++) store(z + t * tileStride(oc) + pos * oc + ob, out[pos]);
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
      transform2d<V, true>(kFilter, in, g);
      for (int64_t tap = 0; tap < kTaps * kTaps; tap++) store(dw + (tap * s.c + ch) * s.oc + ob, g[tap]);
    }
  }
}

// Kept across calls (allocating ~0.5 MiB per call would map fresh pages each time) until
// releaseWinogradBuffers: the transformed filter, and three buffers per thread.
std::vector<float> transformedFilter;
std::vector<std::vector<float>> buffers;

/** The per-thread buffers, grown here (before a parallel region uses them) to hold at least
 *  `first`, `second` and `third` floats. */
std::vector<float>* threadBuffers(int threads, size_t first, size_t second, size_t third) {
  if (buffers.size() < static_cast<size_t>(3 * threads)) buffers.resize(3 * threads);
  for (int t = 0; t < threads; t++) {
    const size_t floats[3] = {first, second, third};
    for (int i = 0; i < 3; i++) {
      if (buffers[3 * t + i].size() < floats[i]) buffers[3 * t + i].resize(floats[i]);
    }
  }
  return buffers.data();
}

/** Forward of tiles [begin, end), kTiles at a time, with U the transformed filter. C: the input channels
 *  when known at compile time (0: s.c). With it, the 12 rows the GEMM broadcasts from are
 *  constant offsets from one pointer; with a run-time stride GCC ran out of registers for
 *  their indices and reloaded them from the stack in the inner loop. */
template <typename V, int RB, int C>
inline __attribute__((always_inline)) void forwardTiles(const ConvArgs& s, const float* u, int64_t begin, int64_t end,
                                                         float* v, float* m) {
  const Tiles tiles(s);
  const int64_t c = C ? C : s.c;
  for (int64_t first = begin; first < end; first += kTiles) {
    const int64_t count = std::min(kTiles, end - first);
    transformInputs<V>(s, tiles, first, count, v);
    for (int64_t pos = 0; pos < kPositions; pos++) {
      gemm<V, RB, 2, false>(count, s.oc, v + pos * c, tileStride(c), 1, u + pos * c * s.oc, s.oc, m + pos * s.oc,
                            tileStride(s.oc), c);
    }
    transformOutputs<V>(s, tiles, first, count, m);
  }
}

/** Adds the dU[pos][c][oc] of tiles [begin, end) (kTiles at a time) to du, and their dy to
 *  du's bias sums after it. */
template <typename V, int RB>
inline __attribute__((always_inline)) void weightGradTiles(const ConvArgs& s, int64_t begin, int64_t end, float* v,
                                                            float* z, float* du) {
  const Tiles tiles(s);
  const int64_t products = kPositions * s.c * s.oc;
  for (int64_t first = begin; first < end; first += kTiles) {
    const int64_t count = std::min(kTiles, end - first);
    transformInputs<V>(s, tiles, first, count, v);
    transformOutputGrads<V>(s, tiles, first, count, z, du + products);
    for (int64_t pos = 0; pos < kPositions; pos++) {
      // dU[pos] (c x oc) += V[pos]^T (c x tiles) Z[pos] (tiles x oc)
      gemm<V, RB, 2, true>(s.c, s.oc, v + pos * s.c, 1, tileStride(s.c), z + pos * s.oc, tileStride(s.oc),
                           du + pos * s.c * s.oc, s.oc, count);
    }
  }
}

// The same code for three instruction sets; RB rows x 2 vectors of accumulators fit each
// one's registers (32 zmm, 16 ymm, 16 xmm). Everything above inlines into these functions, so
// that all of it is compiled for their instruction set.
#define NETC_WINOGRAD_VARIANT(SUFFIX, TARGET, V, RB)                                                           \
  TARGET void transformFilter##SUFFIX(const ConvArgs& s, float* u) { transformFilter<V>(s, u); }               \
  TARGET void forwardTiles##SUFFIX(const ConvArgs& s, const float* u, int64_t begin, int64_t end, float* v,  \
                                    float* m) {                                                                \
    switch (s.c) {                                                                                             \
      case 16: forwardTiles<V, RB, 16>(s, u, begin, end, v, m); break;                                       \
      case 32: forwardTiles<V, RB, 32>(s, u, begin, end, v, m); break;                                       \
      case 64: forwardTiles<V, RB, 64>(s, u, begin, end, v, m); break;                                       \
      default: forwardTiles<V, RB, 0>(s, u, begin, end, v, m); break;                                        \
    }                                                                                                          \
  }                                                                                                            \
  TARGET void weightGradTiles##SUFFIX(const ConvArgs& s, int64_t begin, int64_t end, float* v, float* z,     \
                                       float* du) {                                                            \
    weightGradTiles<V, RB>(s, begin, end, v, z, du);                                                          \
  }                                                                                                            \
  TARGET void filterGrad##SUFFIX(const ConvArgs& s, const float* du, float* dw) {                             \
    filterGradFromProducts<V>(s, du, dw);                                                                      \
  }

NETC_WINOGRAD_VARIANT(Avx512, NETC_TARGET_AVX512, v16, 12)
NETC_WINOGRAD_VARIANT(Avx2, NETC_TARGET_AVX2, v8, 6)
NETC_WINOGRAD_VARIANT(Baseline, , v4, 4)
#undef NETC_WINOGRAD_VARIANT

struct Variant {
  void (*transformFilter)(const ConvArgs&, float*);
  void (*forwardTiles)(const ConvArgs&, const float*, int64_t, int64_t, float*, float*);
  void (*weightGradTiles)(const ConvArgs&, int64_t, int64_t, float*, float*, float*);
  void (*filterGrad)(const ConvArgs&, const float*, float*);
};

const Variant& variant() {
  static const Variant chosen = [] {
    const std::string build = kernelBuild();
    if (build == "avx512") return Variant{transformFilterAvx512, forwardTilesAvx512, weightGradTilesAvx512, filterGradAvx512};
    if (build == "avx2") return Variant{transformFilterAvx2, forwardTilesAvx2, weightGradTilesAvx2, filterGradAvx2};
    return Variant{transformFilterBaseline, forwardTilesBaseline, weightGradTilesBaseline, filterGradBaseline};
  }();
  return chosen;
}

}  // namespace

bool winogradApplies(int64_t c, int64_t oc, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
  return kh == kTaps && kw == kTaps && sh == 1 && sw == 1 && dh == 1 && dw == 1 && c % 16 == 0 && oc % 16 == 0;
}

void winogradForward(const ConvArgs& s) {
  std::vector<float>& u = transformedFilter;
  u.resize(kPositions * s.c * s.oc);
  variant().transformFilter(s, u.data());
  const int64_t tiles = Tiles(s).count;
  const int threads = omp_get_max_threads();
  std::vector<float>* buffers = threadBuffers(threads, kTiles * tileStride(s.c), kTiles * tileStride(s.oc), 0);
#pragma omp parallel num_threads(threads)
  {
    const int64_t thread = omp_get_thread_num(), count = omp_get_num_threads();
    variant().forwardTiles(s, u.data(), tiles * thread / count, tiles * (thread + 1) / count,
                            buffers[3 * thread].data(), buffers[3 * thread + 1].data());
  }
}

void winogradWeightGrad(const ConvArgs& s, float* dw, float* db) {
  const int64_t tiles = Tiles(s).count, products = kPositions * s.c * s.oc;
  const int threads = omp_get_max_threads();
  // Per thread: input and output-gradient tiles, then its dU sums followed by its bias sums.
  std::vector<float>* buffers =
      threadBuffers(threads, kTiles * tileStride(s.c), kTiles * tileStride(s.oc), products + s.oc);
  // Zeroed here, not in the region: a thread that does not run must add nothing.
  for (int t = 0; t < threads; t++) std::memset(buffers[3 * t + 2].data(), 0, (products + s.oc) * sizeof(float));
#pragma omp parallel num_threads(threads)
  {
    const int64_t thread = omp_get_thread_num(), count = omp_get_num_threads();
    variant().weightGradTiles(s, tiles * thread / count, tiles * (thread + 1) / count, buffers[3 * thread].data(),
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

void releaseWinogradBuffers() {
  std::vector<float>().swap(transformedFilter);
  std::vector<std::vector<float>>().swap(buffers);
}

}  // namespace netc
