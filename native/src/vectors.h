// Float vectors for the addon's hand-written kernels (small-conv.cc, winograd.cc): GCC vector
// extensions, compiled once per instruction set into functions marked with the targets below
// (kernelBuild() in small-conv.cc picks the build at run time).
#pragma once

#include <cstdint>
#include <cstring>

namespace netc {

typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));

// The features each build is compiled for; kernelBuild() checks the same ones on the CPU.
#define NETC_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma")))
#define NETC_TARGET_AVX2 __attribute__((target("avx2,fma")))

template <typename V>
constexpr int64_t lanes() {
  return sizeof(V) / sizeof(float);
}

/** Unaligned vector load and store (memcpy: no aliasing or alignment assumptions). */
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

}  // namespace netc
