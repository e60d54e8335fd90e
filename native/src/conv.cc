// 2-D convolution on NHWC tensors with HWIO filters (the tfjs layouts): forward with fused
// bias, residual add (sum post-op) and ReLU/LeakyReLU, backward-data and backward-weights
// (+ bias gradient). Activations stay NHWC where oneDNN has a direct kernel for it, else
// oneDNN picks its own layouts (format_tag::any); filters always use oneDNN's layout.
// Tensors are reordered in and out of oneDNN's layouts, and results go straight into the
// caller's buffers when the layouts agree.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common.h"

namespace netc {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

/** Shapes of one convolution; dilation as in tfjs (1 = none). */
struct Geometry {
  memory::dim n, h, w, c, kh, kw, oc, oh, ow, sh, sw, dh, dw, pt, pb, pl, pr;

  static constexpr size_t kFields = 17;

  static Geometry read(const Napi::Value& value) {
    if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), "geometry must be an array");
    Napi::Array array = value.As<Napi::Array>();
    if (array.Length() != kFields) throw Napi::TypeError::New(value.Env(), "geometry must have 17 numbers");
    memory::dim f[kFields];
    for (uint32_t i = 0; i < kFields; i++) f[i] = array.Get(i).As<Napi::Number>().Int64Value();
    Geometry g{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15], f[16]};
    for (memory::dim v : f) {
      if (v < 0) throw Napi::RangeError::New(value.Env(), "geometry values must be >= 0");
    }
    if (g.n < 1 || g.h < 1 || g.w < 1 || g.c < 1 || g.kh < 1 || g.kw < 1 || g.oc < 1 || g.oh < 1 || g.ow < 1 ||
        g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1) {
      throw Napi::RangeError::New(value.Env(), "geometry sizes, strides and dilations must be >= 1");
    }
    return g;
  }

  std::vector<memory::dim> key() const { return {n, h, w, c, kh, kw, oc, oh, ow, sh, sw, dh, dw, pt, pb, pl, pr}; }
  size_t srcSize() const { return n * h * w * c; }
  size_t weightsSize() const { return kh * kw * c * oc; }
  size_t dstSize() const { return n * oh * ow * oc; }

  memory::desc srcDesc(tag t) const { return memory::desc({n, c, h, w}, dt::f32, t); }
  memory::desc weightsDesc(tag t) const { return memory::desc({oc, c, kh, kw}, dt::f32, t); }
  memory::desc dstDesc(tag t) const { return memory::desc({n, oc, oh, ow}, dt::f32, t); }
  memory::desc biasDesc() const { return memory::desc({oc}, dt::f32, tag::x); }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilates() const { return {dh - 1, dw - 1}; }
  memory::dims padLow() const { return {pt, pl}; }
  memory::dims padHigh() const { return {pb, pr}; }
};

/** The axes of a blocked layout in the order its bytes run, outermost first, when every
 *  blocked axis is exactly one block (so the blocks add neither padding nor a split); axes
 *  of size 1 are left out, as they do not move a byte. Empty when the layout is not such. */
std::vector<int> byteOrder(const memory::desc& desc) {
  const dnnl_memory_desc_t& d = desc.data;
  if (d.format_kind != dnnl_blocked || d.offset0 != 0) return {};
  const dnnl_blocking_desc_t& blocking = d.format_desc.blocking;
  std::vector<bool> blocked(d.ndims, false);
  for (int k = 0; k < blocking.inner_nblks; k++) {
    const int axis = blocking.inner_idxs[k];
    if (blocked[axis] || d.dims[axis] != blocking.inner_blks[k]) return {};
    blocked[axis] = true;
  }
  std::vector<int> outer;
  for (int axis = 0; axis < d.ndims; axis++) {
    if (d.padded_dims[axis] != d.dims[axis]) return {};
    if (!blocked[axis] && d.dims[axis] > 1) outer.push_back(axis);
  }
  std::stable_sort(outer.begin(), outer.end(),
                   [&](int a, int b) { return blocking.strides[a] > blocking.strides[b]; });
  for (int k = 0; k < blocking.inner_nblks; k++) {
    if (d.dims[blocking.inner_idxs[k]] > 1) outer.push_back(blocking.inner_idxs[k]);
  }
  return outer;
}

/** Whether oneDNN's layout `internal` holds the caller's `user` (NHWC activations, HWIO
 *  filters) byte for byte, so that the caller's buffer serves as is: a blocked layout is the
 *  plain one when each blocked dimension is exactly one block and the axes run in the same
 *  order. nChw16c with C == 16 is NHWC (a 128x128 16-channel activation's reorder took
 *  0.14 ms, ~10 of them in each training step of a 16-feature variant); Acdb<B>a with O == B
 *  and ABcd16b16a with I == O == 16 (backward-weights' output) are HWIO (a filter's reorder
 *  took ~0.5 ms on average with its threading, ~70 ms of a 128x128 DeepDeblur step). */
bool sameBytes(const memory::desc& user, const memory::desc& internal) {
  if (user.data.data_type != internal.data.data_type || user.dims() != internal.dims()) return false;
  if (user.get_size() != internal.get_size()) return false;
  const std::vector<int> order = byteOrder(user);
  return !order.empty() && order == byteOrder(internal);
}

/** How a tensor gets between the caller's layout and the primitive's: a reorder when they
 *  differ (through a scratch buffer), none when the caller's buffer can be used directly. */
struct Layout {
  memory::desc user, internal;
  dnnl::reorder toInternal, toUser;
  bool same = true;    // the primitive's layout is the caller's
  bool direct = true;  // ... or holds the same bytes: no reorder either way

  Layout() = default;
  Layout(const memory::desc& userDesc, const memory::desc& internalDesc, bool input)
      : user(userDesc), internal(internalDesc), same(userDesc == internalDesc),
        direct(same || sameBytes(userDesc, internalDesc)) {
    if (direct) return;
    if (input) {
      toInternal = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), user, cpuEngine(), internal));
    } else {
      toUser = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), internal, cpuEngine(), user));
    }
  }

  /** Memory holding the caller's `data` in the internal layout (reordered if needed). */
  memory input(float* data, ScratchSlot slot) const {
    if (direct) return memory(internal, cpuEngine(), data);
    memory userMemory(user, cpuEngine(), data);
    memory internalMemory(internal, cpuEngine(), scratch(slot, internal.get_size()));
    toInternal.execute(cpuStream(), userMemory, internalMemory);
    return internalMemory;
  }

  /** Memory the primitive writes into: the caller's buffer, or scratch to reorder later. */
  memory output(float* data, ScratchSlot slot) const {
    if (direct) return memory(internal, cpuEngine(), data);
    return memory(internal, cpuEngine(), scratch(slot, internal.get_size()));
  }

  void finish(memory written, float* data) const {
    if (direct) return;
    memory userMemory(user, cpuEngine(), data);
    toUser.execute(cpuStream(), written, userMemory);
  }
};

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

memory scratchpadMemory(const memory::desc& desc) {
  return memory(desc, cpuEngine(), scratch(kSlotPad, desc.get_size()));
}

/** The forward descriptor (src and dst in layout `activations`); also the hint the
 *  backward primitives need. */
dnnl::convolution_forward::desc forwardDesc(const Geometry& g, bool bias, tag activations) {
  return dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                         g.srcDesc(activations), g.weightsDesc(tag::any),
                                         bias ? g.biasDesc() : memory::desc(), g.dstDesc(activations), g.strides(),
                                         g.dilates(), g.padLow(), g.padHigh());
}

/** Whether a primitive runs a direct JIT kernel ("jit:...", "brg..."), not reference or
 *  im2col + GEMM code. */
bool directKernel(const std::string& impl) { return impl.rfind("jit", 0) == 0 || impl.rfind("brg", 0) == 0; }

/** The primitive descriptor `make(tag::nhwc)` when oneDNN has a direct kernel for NHWC
 *  activations (no reorders: 5-30% faster, backward-data with few output channels 4x), else
 *  `make(tag::any)`, oneDNN's preferred (blocked) layout. The check matters: NHWC served by
 *  a GEMM fallback made backward-weights ~8x slower in an earlier test. */
template <typename Make>
auto preferNhwc(Make make) -> decltype(make(tag::any)) {
  try {
    auto pd = make(tag::nhwc);
    if (directKernel(pd.impl_info_str())) return pd;
  } catch (const dnnl::error&) {
    // no NHWC implementation: use oneDNN's own layout
  }
  return make(tag::any);
}

enum Activation { kNone = 0, kRelu = 1, kLeakyRelu = 2 };

struct ForwardPlan {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward conv;
  Layout src, weights, dst;
  dnnl::reorder residualToInternal;  // when dst is not direct

  ForwardPlan(const Geometry& g, bool bias, bool residual, Activation activation, float alpha) {
    dnnl::post_ops ops;
    if (residual) ops.append_sum(1.f);
    if (activation != kNone) {
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, activation == kLeakyRelu ? alpha : 0.f, 0.f);
    }
    dnnl::primitive_attr attr = userScratchpad();
    attr.set_post_ops(ops);
    pd = preferNhwc([&](tag activations) {
      return dnnl::convolution_forward::primitive_desc(forwardDesc(g, bias, activations), attr, cpuEngine());
    });
    conv = dnnl::convolution_forward(pd);
    src = Layout(g.srcDesc(tag::nhwc), pd.src_desc(), true);
    weights = Layout(g.weightsDesc(tag::hwio), pd.weights_desc(), true);
    dst = Layout(g.dstDesc(tag::nhwc), pd.dst_desc(), false);
    if (residual && !dst.direct) {
      residualToInternal = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), dst.user, cpuEngine(), dst.internal));
    }
  }
};

struct BackwardDataPlan {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data conv;
  Layout diffDst, weights, diffSrc;

  explicit BackwardDataPlan(const Geometry& g) {
    pd = preferNhwc([&](tag activations) {
      dnnl::convolution_forward::primitive_desc hint(forwardDesc(g, false, activations), cpuEngine());
      dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, g.srcDesc(activations),
                                                 g.weightsDesc(tag::any), g.dstDesc(activations), g.strides(),
                                                 g.dilates(), g.padLow(), g.padHigh());
      return dnnl::convolution_backward_data::primitive_desc(desc, userScratchpad(), cpuEngine(), hint);
    });
    conv = dnnl::convolution_backward_data(pd);
    diffDst = Layout(g.dstDesc(tag::nhwc), pd.diff_dst_desc(), true);
    weights = Layout(g.weightsDesc(tag::hwio), pd.weights_desc(), true);
    diffSrc = Layout(g.srcDesc(tag::nhwc), pd.diff_src_desc(), false);
  }
};

struct BackwardWeightsPlan {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights conv;
  Layout src, diffDst, diffWeights;
  bool nhwc;  // activations read in place (else reordered to oneDNN's blocked layout)

  BackwardWeightsPlan(const Geometry& g, bool bias, tag activations) {
    dnnl::convolution_forward::primitive_desc hint(forwardDesc(g, bias, activations), cpuEngine());
    dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, g.srcDesc(activations),
                                                  g.weightsDesc(tag::any), bias ? g.biasDesc() : memory::desc(),
                                                  g.dstDesc(activations), g.strides(), g.dilates(), g.padLow(),
                                                  g.padHigh());
    pd = dnnl::convolution_backward_weights::primitive_desc(desc, userScratchpad(), cpuEngine(), hint);
    conv = dnnl::convolution_backward_weights(pd);
    src = Layout(g.srcDesc(tag::nhwc), pd.src_desc(), true);
    diffDst = Layout(g.dstDesc(tag::nhwc), pd.diff_dst_desc(), true);
    diffWeights = Layout(g.weightsDesc(tag::hwio), pd.diff_weights_desc(), false);
    nhwc = src.same && diffDst.same;
    if (bias && !(pd.diff_bias_desc() == g.biasDesc())) {
      throw std::runtime_error("oneDNN chose an unexpected bias-gradient layout");
    }
  }
};

using Key = std::vector<memory::dim>;

// Plans are cached per shape; a model has few distinct conv shapes, so the bound only
// guards against unbounded growth (e.g. many input sizes in one process).
constexpr size_t kMaxPlans = 512;

template <typename Plan>
struct PlanCache {
  std::map<Key, std::unique_ptr<Plan>> plans;

  /** The plan of `key`, made by `make()` (a std::unique_ptr<Plan>) on its first use. */
  template <typename Make>
  Plan& getOrMake(const Key& key, Make make) {
    auto found = plans.find(key);
    if (found != plans.end()) return *found->second;
    if (plans.size() >= kMaxPlans) plans.clear();
    return *plans.emplace(key, make()).first->second;
  }

  template <typename... Args>
  Plan& get(const Key& key, Args&&... args) {
    return getOrMake(key, [&] { return std::make_unique<Plan>(std::forward<Args>(args)...); });
  }
};

// Executions since load: lets tests check that the native path (not a fallback) ran.
size_t executions = 0;

PlanCache<ForwardPlan> forwardPlans;
PlanCache<BackwardDataPlan> backwardDataPlans;
PlanCache<BackwardWeightsPlan> backwardWeightsPlans;

/** Runs `body`, turning oneDNN and C++ errors into JavaScript exceptions. */
template <typename Body>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* what, Body body) {
  try {
    body();
    return info.Env().Undefined();
  } catch (const Napi::Error&) {
    throw;
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string(what) + ": oneDNN error " + std::to_string(e.status) + ": " + e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string(what) + ": " + e.what());
  }
}

uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

ForwardPlan& forwardPlan(const Geometry& g, bool bias, bool residual, Activation activation, float alpha) {
  Key key = g.key();
  key.insert(key.end(), {bias, residual, activation, floatBits(alpha)});
  return forwardPlans.get(key, g, bias, residual, activation, alpha);
}

/** y = act(conv(x, w) + bias + residual), with `plan` made for these arguments. */
void runForward(ForwardPlan& plan, const Geometry& g, float* x, float* w, float* bias, float* residual, float* y) {
  memory srcMemory = plan.src.input(x, kSlotSrc);
  memory weightsMemory = plan.weights.input(w, kSlotWeights);
  memory dstMemory = plan.dst.output(y, kSlotDst);
  if (residual) {
    // The sum post-op accumulates into dst, so dst starts as the residual.
    if (plan.dst.direct) {
      if (residual != y) std::memcpy(y, residual, g.dstSize() * sizeof(float));
    } else {
      memory residualMemory(plan.dst.user, cpuEngine(), residual);
      plan.residualToInternal.execute(cpuStream(), residualMemory, dstMemory);
    }
  }
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, srcMemory},
                                       {DNNL_ARG_WEIGHTS, weightsMemory},
                                       {DNNL_ARG_DST, dstMemory},
                                       {DNNL_ARG_SCRATCHPAD, scratchpadMemory(plan.pd.scratchpad_desc())}};
  if (bias) args.insert({DNNL_ARG_BIAS, memory(g.biasDesc(), cpuEngine(), bias)});
  plan.conv.execute(cpuStream(), args);
  plan.dst.finish(dstMemory, y);
  executions++;
}

/** NETC_SMALL_CONV (small-conv.cc) or NETC_WINOGRAD (winograd.cc): "on" or "off" force the
 *  hand-written kernels where they apply, or oneDNN (for tests and benchmarks); anything
 *  else, "auto". Read on every call. */
std::string kernelSetting(const char* variable) {
  const char* value = std::getenv(variable);
  return value ? value : "auto";
}

// Shapes whose hand-written kernel was timed faster (true) or slower than oneDNN's.
std::map<Key, bool> smallForwardChoices, smallWeightGradChoices, winogradForwardChoices, winogradWeightGradChoices;
size_t smallConvRuns = 0, winogradRuns = 0;

/** Seconds of the fastest of runs 2-4 of `body` (the first warms up). */
template <typename Body>
double bestOfThree(Body body) {
  double best = 0;
  for (int run = 0; run < 4; run++) {
    auto started = std::chrono::steady_clock::now();
    body();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (run == 1 || (run > 1 && elapsed < best)) best = elapsed;
  }
  return best;
}

/** Whether to run a hand-written kernel (`own`) rather than oneDNN's (`onednn`) for this
 *  shape, as `variable` (kernelSetting) says: in "auto" mode both are timed on the call's own
 *  data the first time, and the faster is kept (the kernels' speed depends on the CPU:
 *  AVX-512, AVX2, core count). */
template <typename Own, typename OneDnn>
bool preferOwnKernel(const char* variable, std::map<Key, bool>& choices, const Key& key, Own own, OneDnn onednn) {
  const std::string setting = kernelSetting(variable);
  if (setting == "on" || setting == "off") return setting == "on";
  auto found = choices.find(key);
  if (found != choices.end()) return found->second;
  if (choices.size() >= kMaxPlans) choices.clear();
  const bool faster = bestOfThree(own) < bestOfThree(onednn);
  choices.emplace(key, faster);
  return faster;
}

ConvArgs convArgsOf(const Geometry& g) {
  ConvArgs s;
  s.n = g.n, s.h = g.h, s.w = g.w, s.c = g.c, s.kh = g.kh, s.kw = g.kw, s.oc = g.oc, s.oh = g.oh, s.ow = g.ow;
  s.pt = g.pt, s.pl = g.pl;
  return s;
}

/** y = act(conv(x, w) + bias + residual): winograd.cc's or small-conv.cc's kernel where one
 *  applies and is the faster on this shape, else oneDNN. */
void forward(const Geometry& g, float* x, float* w, float* bias, float* residual, float* y, Activation activation, float alpha) {
  ForwardPlan& plan = forwardPlan(g, bias != nullptr, residual != nullptr, activation, alpha);
  // Timing runs each kernel four times: a residual that is y itself is kept apart, and used by
  // whichever kernel then computes the result (y holds a timing run's output by then).
  std::vector<float> savedResidual;
  if (winogradApplies(g.c, g.oc, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw)) {
    Key key = g.key();
    key.insert(key.end(), {bias != nullptr, residual != nullptr, activation, floatBits(alpha)});
    if (residual == y && winogradForwardChoices.find(key) == winogradForwardChoices.end()) {
      savedResidual.assign(residual, residual + g.dstSize());
      residual = savedResidual.data();
    }
    ConvArgs s = convArgsOf(g);
    s.x = x, s.filter = w, s.bias = bias, s.residual = residual, s.y = y, s.activation = activation, s.alpha = alpha;
    if (preferOwnKernel("NETC_WINOGRAD", winogradForwardChoices, key, [&] { winogradForward(s); },
                        [&] { runForward(plan, g, x, w, bias, residual, y); })) {
      winogradForward(s);
      winogradRuns++;
      executions++;
      return;
    }
  }
  if (!residual && smallConvApplies(g.c, g.oc, g.sh, g.sw, g.dh, g.dw)) {
    ConvArgs s = convArgsOf(g);
    s.x = x, s.filter = w, s.bias = bias, s.y = y, s.activation = activation, s.alpha = alpha;
    Key key = g.key();
    key.insert(key.end(), {bias != nullptr, activation, floatBits(alpha)});
    if (preferOwnKernel("NETC_SMALL_CONV", smallForwardChoices, key, [&] { smallConvForward(s); },
                        [&] { runForward(plan, g, x, w, bias, nullptr, y); })) {
      smallConvForward(s);
      smallConvRuns++;
      return;
    }
  }
  runForward(plan, g, x, w, bias, residual, y);
}

/** For stride 1 and no dilation, the input gradient is itself a forward convolution: of dy
 *  with the filter rotated 180 degrees and its in/out channels swapped, padded by
 *  (kernel - 1 - padding) on each side. oneDNN 2.6 serves forward with its brgemm kernels
 *  but backward-data with older JIT code, 1.45x slower for DeepDeblur's 64-channel 5x5
 *  convs at 128x128 (14.8 ms vs 10.2 ms), so this route wins. Returns false where it does
 *  not apply. */
bool backwardDataAsForward(const Geometry& g, float* dy, float* w, float* dx) {
  if (g.sh != 1 || g.sw != 1 || g.dh != 1 || g.dw != 1) return false;
  if (g.pt > g.kh - 1 || g.pb > g.kh - 1 || g.pl > g.kw - 1 || g.pr > g.kw - 1) return false;
  Geometry t{g.n, g.oh, g.ow, g.oc, g.kh, g.kw, g.c, g.h, g.w, 1, 1, 1, 1,
             g.kh - 1 - g.pt, g.kh - 1 - g.pb, g.kw - 1 - g.pl, g.kw - 1 - g.pr};
  // HWIO w[i][j][c][o] -> HWIO rotated[kh-1-i][kw-1-j][o][c]
  float* rotated = static_cast<float*>(scratch(kSlotRotatedWeights, g.weightsSize() * sizeof(float)));
  for (memory::dim i = 0; i < g.kh; i++) {
    for (memory::dim j = 0; j < g.kw; j++) {
      const float* from = w + (i * g.kw + j) * g.c * g.oc;
      float* to = rotated + ((g.kh - 1 - i) * g.kw + (g.kw - 1 - j)) * g.oc * g.c;
      for (memory::dim c = 0; c < g.c; c++) {
        for (memory::dim o = 0; o < g.oc; o++) to[o * g.c + c] = from[c * g.oc + o];
      }
    }
  }
  forward(t, dy, rotated, nullptr, nullptr, dx, kNone, 0.f);
  return true;
}

}  // namespace

// convForward(x, w, bias | null, residual | null, y, geometry, activation, alpha)
// y = act(conv(x, w) + bias + residual); activation 0 none, 1 relu, 2 leaky relu(alpha).
Napi::Value convForward(const Napi::CallbackInfo& info) {
  return guarded(info, "convForward", [&] {
    Geometry g = Geometry::read(info[5]);
    float* x = floatData(info[0], g.srcSize(), "x");
    float* w = floatData(info[1], g.weightsSize(), "w");
    float* bias = optionalFloatData(info[2], g.oc, "bias");
    float* residual = optionalFloatData(info[3], g.dstSize(), "residual");
    float* y = floatData(info[4], g.dstSize(), "y");
    int activationCode = info[6].As<Napi::Number>().Int32Value();
    if (activationCode < kNone || activationCode > kLeakyRelu) throw std::runtime_error("unknown activation");
    Activation activation = static_cast<Activation>(activationCode);
    float alpha = activation == kLeakyRelu ? info[7].As<Napi::Number>().FloatValue() : 0.f;
    forward(g, x, w, bias, residual, y, activation, alpha);
    cpuStream().wait();
  });
}

// convBackwardData(dy, w, dx, geometry): dx = gradient of the conv input.
Napi::Value convBackwardData(const Napi::CallbackInfo& info) {
  return guarded(info, "convBackwardData", [&] {
    Geometry g = Geometry::read(info[3]);
    float* dy = floatData(info[0], g.dstSize(), "dy");
    float* w = floatData(info[1], g.weightsSize(), "w");
    float* dx = floatData(info[2], g.srcSize(), "dx");
    if (backwardDataAsForward(g, dy, w, dx)) {
      cpuStream().wait();
      return;
    }
    BackwardDataPlan& plan = backwardDataPlans.get(g.key(), g);

    memory diffDstMemory = plan.diffDst.input(dy, kSlotDst);
    memory weightsMemory = plan.weights.input(w, kSlotWeights);
    memory diffSrcMemory = plan.diffSrc.output(dx, kSlotSrc);
    plan.conv.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, diffDstMemory},
                                    {DNNL_ARG_WEIGHTS, weightsMemory},
                                    {DNNL_ARG_DIFF_SRC, diffSrcMemory},
                                    {DNNL_ARG_SCRATCHPAD, scratchpadMemory(plan.pd.scratchpad_desc())}});
    plan.diffSrc.finish(diffSrcMemory, dx);
    executions++;
    cpuStream().wait();
  });
}

namespace {

void runBackwardWeights(BackwardWeightsPlan& plan, const Geometry& g, float* x, float* dy, float* dw, float* db) {
  memory srcMemory = plan.src.input(x, kSlotSrc);
  memory diffDstMemory = plan.diffDst.input(dy, kSlotDst);
  memory diffWeightsMemory = plan.diffWeights.output(dw, kSlotWeights);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, srcMemory},
                                       {DNNL_ARG_DIFF_DST, diffDstMemory},
                                       {DNNL_ARG_DIFF_WEIGHTS, diffWeightsMemory},
                                       {DNNL_ARG_SCRATCHPAD, scratchpadMemory(plan.pd.scratchpad_desc())}};
  if (db) args.insert({DNNL_ARG_DIFF_BIAS, memory(g.biasDesc(), cpuEngine(), db)});
  plan.conv.execute(cpuStream(), args);
  plan.diffWeights.finish(diffWeightsMemory, dw);
  executions++;
  cpuStream().wait();
}

/** NETC_CONV_LAYOUT: "nhwc" or "blocked" force the activations' layout of backward-weights
 *  (for benchmarks and tests); anything else, "auto". */
std::string layoutSetting() {
  const char* value = std::getenv("NETC_CONV_LAYOUT");
  return value ? value : "auto";
}

/** A new backward-weights plan for a shape, made on its first call. Which activation layout is
 *  faster depends on the channel counts and the CPU (AVX-512, 2 cores: for 16 channels the
 *  blocked layout with its reorders took 0.69x the time of NHWC; for 32 and 64 channels
 *  NHWC 0.8-0.9x the blocked one), so in "auto" mode each candidate (NHWC where oneDNN has a
 *  direct kernel for it, and oneDNN's own blocked layout) runs four times on the call's own
 *  data, and the best of its last three runs decides. The chosen plan then computes the call's result. */
std::unique_ptr<BackwardWeightsPlan> tunedBackwardWeightsPlan(const Geometry& g, float* x, float* dy, float* dw, float* db) {
  const std::string setting = layoutSetting();
  std::vector<std::unique_ptr<BackwardWeightsPlan>> candidates;
  if (setting != "blocked") {
    try {
      auto plan = std::make_unique<BackwardWeightsPlan>(g, db != nullptr, tag::nhwc);
      if (directKernel(plan->pd.impl_info_str()) || setting == "nhwc") candidates.push_back(std::move(plan));
    } catch (const dnnl::error&) {
      // no NHWC implementation for this shape: oneDNN's own layout only
    }
  }
  if (setting != "nhwc" || candidates.empty()) {
    auto plan = std::make_unique<BackwardWeightsPlan>(g, db != nullptr, tag::any);
    if (candidates.empty() || !plan->nhwc) candidates.push_back(std::move(plan));  // any == nhwc: nothing to try
  }
  size_t best = 0;
  if (candidates.size() > 1) {
    double fastest = 0;
    for (size_t i = 0; i < candidates.size(); i++) {
      double seconds = bestOfThree([&] { runBackwardWeights(*candidates[i], g, x, dy, dw, db); });
      if (i == 0 || seconds < fastest) fastest = seconds, best = i;
    }
  }
  return std::move(candidates[best]);
}

}  // namespace

// convBackwardWeights(x, dy, dw, db | null, geometry): filter gradient (HWIO) and, when db
// is given, the bias gradient (sum of dy over N, H, W).
Napi::Value convBackwardWeights(const Napi::CallbackInfo& info) {
  return guarded(info, "convBackwardWeights", [&] {
    Geometry g = Geometry::read(info[4]);
    float* x = floatData(info[0], g.srcSize(), "x");
    float* dy = floatData(info[1], g.dstSize(), "dy");
    float* dw = floatData(info[2], g.weightsSize(), "dw");
    float* db = optionalFloatData(info[3], g.oc, "db");
    Key key = g.key();
    key.push_back(db != nullptr);
    BackwardWeightsPlan& plan = backwardWeightsPlans.getOrMake(key, [&] { return tunedBackwardWeightsPlan(g, x, dy, dw, db); });
    if (winogradApplies(g.c, g.oc, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw)) {
      ConvArgs s = convArgsOf(g);
      s.x = x, s.dy = dy;
      if (preferOwnKernel("NETC_WINOGRAD", winogradWeightGradChoices, key, [&] { winogradWeightGrad(s, dw, db); },
                          [&] { runBackwardWeights(plan, g, x, dy, dw, db); })) {
        winogradWeightGrad(s, dw, db);
        winogradRuns++;
        executions++;
        return;
      }
    }
    if (smallConvApplies(g.c, g.oc, g.sh, g.sw, g.dh, g.dw)) {
      ConvArgs s = convArgsOf(g);
      s.x = x, s.dy = dy;
      if (preferOwnKernel("NETC_SMALL_CONV", smallWeightGradChoices, key, [&] { smallConvWeightGrad(s, dw, db); },
                          [&] { runBackwardWeights(plan, g, x, dy, dw, db); })) {
        smallConvWeightGrad(s, dw, db);
        smallConvRuns++;
        return;
      }
    }
    runBackwardWeights(plan, g, x, dy, dw, db);
  });
}

size_t blockedWeightGradPlans() {
  size_t blocked = 0;
  for (const auto& entry : backwardWeightsPlans.plans) blocked += entry.second->nhwc ? 0 : 1;
  return blocked;
}

size_t convExecutions() { return executions; }

size_t smallConvExecutions() { return smallConvRuns; }

size_t winogradExecutions() { return winogradRuns; }

size_t convCacheSize() {
  return forwardPlans.plans.size() + backwardDataPlans.plans.size() + backwardWeightsPlans.plans.size();
}

void clearConvCache() {
  forwardPlans.plans.clear();
  backwardDataPlans.plans.clear();
  backwardWeightsPlans.plans.clear();
  smallForwardChoices.clear();
  smallWeightGradChoices.clear();
  winogradForwardChoices.clear();
  winogradWeightGradChoices.clear();
}

}  // namespace netc
