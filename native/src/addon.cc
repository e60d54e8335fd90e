// Module entry of the netc oneDNN addon, and the pieces shared by its kernels.
#include <omp.h>

#include <cstdlib>  // defines __GLIBC__ on glibc
#include <string>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef __linux__
#include <dirent.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "common.h"

namespace netc {

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

namespace {

struct Buffer {
  void* data = nullptr;
  size_t bytes = 0;
};
Buffer buffers[kSlotCount];

}  // namespace

void* scratch(ScratchSlot slot, size_t bytes) {
  Buffer& buffer = buffers[slot];
  if (bytes <= buffer.bytes) return buffer.data;
  freeLarge(buffer.data, buffer.bytes);
  buffer = Buffer{};  // stays empty if the allocation throws
  buffer = Buffer{allocateLarge(bytes), bytes};
  return buffer.data;
}

void releaseScratch() {
  for (Buffer& buffer : buffers) {
    freeLarge(buffer.data, buffer.bytes);
    buffer = Buffer{};
  }
}

float* floatData(const Napi::Value& value, size_t expected, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a Float32Array");
  }
  Napi::Float32Array array = value.As<Napi::Float32Array>();
  if (array.ElementLength() != expected) {
    throw Napi::RangeError::New(value.Env(), std::string(name) + " has " + std::to_string(array.ElementLength()) +
                                                 " elements, expected " + std::to_string(expected));
  }
  return array.Data();
}

float* optionalFloatData(const Napi::Value& value, size_t expected, const char* name) {
  if (value.IsNull() || value.IsUndefined()) return nullptr;
  return floatData(value, expected, name);
}

namespace {

/** oneDNN's effective instruction set: the CPU's, capped by ONEDNN_MAX_CPU_ISA. */
std::string isaName() {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

Napi::Value info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dnnl_version_t* version = dnnl_version();
  Napi::Object result = Napi::Object::New(env);
  result.Set("version", std::to_string(version->major) + "." + std::to_string(version->minor) + "." +
                            std::to_string(version->patch));
  result.Set("threads", omp_get_max_threads());
  result.Set("cachedPlans", static_cast<double>(convCacheSize()));
  result.Set("convCalls", static_cast<double>(convExecutions()));
  result.Set("smallConvCalls", static_cast<double>(smallConvExecutions()));
  result.Set("winogradCalls", static_cast<double>(winogradExecutions()));
  result.Set("kernelBuild", kernelBuild());
  result.Set("isa", isaName());
  result.Set("blockedWeightGradPlans", static_cast<double>(blockedWeightGradPlans()));
  return result;
}

Napi::Value release(const Napi::CallbackInfo& info) {
  clearConvCache();
  releaseScratch();
  releaseWinogradBuffers();
  return info.Env().Undefined();
}

/** Tensor data lives in malloc'ed ArrayBuffers of up to hundreds of MB (a 64-channel
 *  activation of a 1280x720 image is 236 MB) that come and go with every op. By default glibc
 *  mmaps each block over its mmap threshold (at most 32 MB) and unmaps it when freed, so every
 *  new output is fresh pages: the page faults and kernel zeroing inside the convolution that
 *  writes it halved a 720x1280 conv's speed (870 ms vs 465 ms, 57,600 faults per output).
 *  Serve every block from the heap instead, so freed blocks are reused, and return memory to
 *  the system only above 1 GB of free heap top. Process-wide; the cost is a higher RSS. */
void keepFreedBuffers() {
#ifdef __GLIBC__
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

/** yieldHelperThreads(): moves every other thread of the process that exists now to Linux's
 *  SCHED_IDLE class, so that it runs only on a core nothing else wants; returns how many.
 *  Called on the main thread before oneDNN starts its OpenMP threads (which then keep the
 *  normal class), these are V8's helpers (concurrent GC marking, optimizing compilers).
 *  oneDNN splits each convolution statically over all cores, so a helper that takes a core
 *  for a few milliseconds stalls the whole convolution: such stalls were 17% of the conv
 *  time in a 16-feature variant's training step on 2 cores (6.8% with V8's helpers off);
 *  the step's median went 53 -> 49 ms and its 90th percentile 74 -> 56-63 ms. The helpers
 *  still get the gaps between kernels (JavaScript runs on one core). Threads started later
 *  (data-loading workers, libuv's pool) keep the normal class. */
Napi::Value yieldHelperThreads(const Napi::CallbackInfo& info) {
  int moved = 0;
#ifdef __linux__
  const long self = syscall(SYS_gettid);
  if (DIR* tasks = opendir("/proc/self/task")) {
    while (dirent* entry = readdir(tasks)) {
      const long tid = std::strtol(entry->d_name, nullptr, 10);
      if (tid <= 0 || tid == self) continue;
      sched_param param{};
      if (sched_setscheduler(static_cast<pid_t>(tid), SCHED_IDLE, &param) == 0) moved++;
    }
    closedir(tasks);
  }
#endif
  return Napi::Number::New(info.Env(), moved);
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  keepFreedBuffers();
  exports.Set("info", Napi::Function::New(env, info));
  exports.Set("release", Napi::Function::New(env, release));
  exports.Set("yieldHelperThreads", Napi::Function::New(env, yieldHelperThreads));
  exports.Set("convForward", Napi::Function::New(env, convForward));
  exports.Set("convBackwardData", Napi::Function::New(env, convBackwardData));
  exports.Set("convBackwardWeights", Napi::Function::New(env, convBackwardWeights));
  registerEltwise(env, exports);
  registerHugePages(env, exports);
  return exports;
}

}  // namespace netc

// NODE_API_MODULE needs a plain identifier.
static Napi::Object initModule(Napi::Env env, Napi::Object exports) { return netc::init(env, exports); }

NODE_API_MODULE(netc_onednn, initModule)
