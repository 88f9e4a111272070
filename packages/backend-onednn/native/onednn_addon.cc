// N-API addon: oneDNN 2.x convolution (forward, backward-data, backward-weights) and batched
// matmul on caller-owned Float32Arrays. Activations stay NHWC and are used in place; filters
// arrive HWIO and are reordered into the layout oneDNN prefers for the chosen kernel, because
// forcing plain HWIO drops oneDNN to a slower gemm path. Primitives are cached per shape.
// Each op also has a bfloat16 variant (`...Bf16`): the same Float32Arrays in and out, the
// multiplied operands converted to bf16 (round to nearest even) inside, products accumulated
// and written in float32 (mixed precision as PyTorch's autocast does it on oneDNN).
#include <napi.h>
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#if DNNL_VERSION_MAJOR != 2
#error "squid_onednn targets the oneDNN 2.x API (see README: oneDNN 3.x)"
#endif

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

namespace {

dnnl::engine& Engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& Stream() {
  static dnnl::stream strm(Engine());
  return strm;
}

// Conv geometry, all in TF terms except dilation (oneDNN counts the gaps: TF dilation - 1).
struct ConvShape {
  int64_t n, h, w, c;     // input  [N, H, W, C]
  int64_t kh, kw, o;      // filter [KH, KW, C, O]
  int64_t oh, ow;         // output [N, OH, OW, O]
  int64_t sh, sw, dh, dw;
  int64_t pt, pl, pb, pr;
  int64_t act;            // 0 none, 1 relu, 2 leaky relu (alpha), 3 relu6
  int64_t has_bias;
  int64_t bf16 = 0;       // 1: src / weights / diff_dst in bf16, dst / diff_src / diff_weights f32

  std::string Key(const char* kind) const {
    std::ostringstream s;
    s << kind;
    for (int64_t v : {n, h, w, c, kh, kw, o, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr, act, has_bias, bf16}) {
      s << ',' << v;
    }
    return s.str();
  }
  // The type oneDNN multiplies in; everything the caller sees stays f32.
  dt Low() const { return bf16 ? dt::bf16 : dt::f32; }
  memory::desc Src(dt t = dt::f32) const { return memory::desc({n, c, h, w}, t, tag::nhwc); }
  memory::desc Dst(dt t = dt::f32) const { return memory::desc({n, o, oh, ow}, t, tag::nhwc); }
  memory::desc WeiUser() const { return memory::desc({o, c, kh, kw}, dt::f32, tag::hwio); }
  memory::desc WeiAny() const { return memory::desc({o, c, kh, kw}, Low(), tag::any); }
  memory::desc Bias() const { return memory::desc({o}, dt::f32, tag::x); }
  memory::dims Strides() const { return {sh, sw}; }
  memory::dims Dilates() const { return {dh - 1, dw - 1}; }
  memory::dims PadL() const { return {pt, pl}; }
  memory::dims PadR() const { return {pb, pr}; }
};

dnnl::primitive_attr ActivationAttr(int64_t act, float alpha) {
  dnnl::primitive_attr attr;
  if (act == 0) return attr;
  dnnl::post_ops ops;
  if (act == 1) ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
  if (act == 2) ops.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f);
  if (act == 3) ops.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 6.f);
  attr.set_post_ops(ops);
  return attr;
}

dnnl::convolution_forward::primitive_desc ForwardPd(const ConvShape& s, float alpha) {
  dnnl::primitive_attr attr = ActivationAttr(s.act, alpha);
  auto d = s.has_bias
               ? dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                                 s.Src(s.Low()), s.WeiAny(), s.Bias(), s.Dst(), s.Strides(),
                                                 s.Dilates(), s.PadL(), s.PadR())
               : dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                                 s.Src(s.Low()), s.WeiAny(), s.Dst(), s.Strides(), s.Dilates(),
                                                 s.PadL(), s.PadR());
  return dnnl::convolution_forward::primitive_desc(d, attr, Engine());
}

// A grow-only, 64-byte aligned buffer for the bf16 copy of an activation. Calls are serialised
// by cache_mutex, so one buffer per operand slot serves every cached primitive: memory stays at
// the largest layer's size instead of one copy per shape.
struct Scratch {
  void* data = nullptr;
  size_t size = 0;
  void* Get(size_t bytes) {
    if (bytes > size) {
      std::free(data);
      size = (bytes + 63) / 64 * 64;
      data = std::aligned_alloc(64, size);
      if (!data) {
        size = 0;
        throw std::bad_alloc();
      }
    }
    return data;
  }
  void Release() {
    std::free(data);
    data = nullptr;
    size = 0;
  }
};
// Slot 0: src / diff_dst of a conv, a of a matmul; slot 1: diff_dst of backward-weights, b of a matmul.
Scratch scratch[2];

// float32 -> bf16, round to nearest even (NaN stays a quiet NaN): the rounding of oneDNN's
// reorder (vcvtneps2bf16), done inline for arrays too small to be worth an OpenMP region.
void ToBf16Serial(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    uint32_t u;
    std::memcpy(&u, &src[i], sizeof u);
    dst[i] = (u & 0x7fffffffu) > 0x7f800000u ? static_cast<uint16_t>((u >> 16) | 0x40u)
                                             : static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
}
// Below this many elements a conversion runs on the calling thread: waking the OpenMP team for
// a reorder cost ~2 ms per call on a loaded 2-core machine (1x16x200 operands of the memory read).
constexpr int64_t kSerialConvertElements = 1 << 16;

// A user-layout tensor bound to a caller pointer, plus (when oneDNN prefers another layout or
// type) a buffer in that layout and the reorder between them. The buffer is owned and cached
// (weights), or borrowed from a Scratch slot on each call (bf16 activations).
struct Reordered {
  memory user;
  memory inner;
  dnnl::reorder to_inner;    // user -> inner
  dnnl::reorder to_user;     // inner -> user
  bool same = true;
  Scratch* borrowed = nullptr;
  int64_t plain_bf16 = 0;    // > 0: inner is user's layout in bf16, this many elements

  void Init(const memory::desc& user_md, const memory::desc& inner_md, bool toInner, bool toUser,
            Scratch* slot = nullptr) {
    user = memory(user_md, Engine(), DNNL_MEMORY_NONE);
    same = user_md == inner_md;
    if (same) return;
    borrowed = slot;
    inner = slot ? memory(inner_md, Engine(), DNNL_MEMORY_NONE) : memory(inner_md, Engine());
    if (toInner) to_inner = dnnl::reorder(user, inner);
    if (toUser) to_user = dnnl::reorder(inner, user);
    dnnl_memory_desc_t twin = inner_md.data;
    twin.data_type = dnnl_f32;
    if (inner_md.data_type() == dt::bf16 && memory::desc(twin) == user_md &&
        inner_md.get_size() * 2 == user_md.get_size()) {
      plain_bf16 = static_cast<int64_t>(user_md.get_size() / sizeof(float));
    }
  }
  memory& Inner() { return same ? user : inner; }
  // Bytes of the inner layout: what a kept copy (packConvFilter, a bf16 matMul operand) holds.
  size_t InnerSize() const { return same ? user.get_desc().get_size() : inner.get_desc().get_size(); }
  // A copy the caller keeps in the inner layout, as a memory of its own: rebinding `inner` would
  // free the buffer oneDNN allocated for it (set_data_handle releases a library-owned buffer).
  memory Kept(void* data) const { return memory(same ? user.get_desc() : inner.get_desc(), Engine(), data); }
  // Converts src (user layout) into dst (inner layout): small plain bf16 arrays on this thread.
  void Convert(dnnl::stream& strm, memory& src, memory& dst) {
    if (plain_bf16 > 0 && plain_bf16 < kSerialConvertElements) {
      ToBf16Serial(static_cast<const float*>(src.get_data_handle()), static_cast<uint16_t*>(dst.get_data_handle()),
                   plain_bf16);
    } else {
      to_inner.execute(strm, src, dst);
    }
  }
  // Binds the caller's array and converts it into the inner layout when they differ.
  memory& In(dnnl::stream& strm, float* data) {
    user.set_data_handle(data);
    if (same) return user;
    if (borrowed) inner.set_data_handle(borrowed->Get(inner.get_desc().get_size()));
    Convert(strm, user, inner);
    return inner;
  }
};

struct ConvForward {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  memory dst, bias;
  Reordered src, wei;
};

struct ConvBackwardData {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  memory diff_src;
  Reordered diff_dst, wei;
};

struct ConvBackwardWeights {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
  Reordered src, diff_dst, diff_wei;
};

struct MatMul {
  dnnl::matmul prim;
  memory c, bias;
  Reordered a, b;
};

std::mutex cache_mutex;
std::unordered_map<std::string, std::unique_ptr<ConvForward>> fwd_cache;
std::unordered_map<std::string, std::unique_ptr<ConvBackwardData>> bwd_data_cache;
std::unordered_map<std::string, std::unique_ptr<ConvBackwardWeights>> bwd_wei_cache;
std::unordered_map<std::string, std::unique_ptr<MatMul>> matmul_cache;
std::unordered_map<std::string, std::string> impl_names;

float* F32(const Napi::Value& v, size_t need, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a Float32Array");
  }
  auto a = v.As<Napi::Float32Array>();
  if (a.ElementLength() < need) {
    std::ostringstream s;
    s << what << " has " << a.ElementLength() << " elements, needs " << need;
    throw Napi::RangeError::New(v.Env(), s.str());
  }
  return a.Data();
}

// An Int32Array argument of at least `need` entries, or a TypeError saying what it must be.
Napi::Int32Array Int32Arg(const Napi::Value& v, uint32_t need, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      v.As<Napi::Int32Array>().ElementLength() < need) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be an Int32Array");
  }
  return v.As<Napi::Int32Array>();
}

ConvShape ReadShape(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(v.Env(), "conv params must be an Int32Array");
  }
  auto p = v.As<Napi::Int32Array>();
  if (p.ElementLength() < 19) throw Napi::RangeError::New(v.Env(), "conv params need 19 entries");
  const int32_t* q = p.Data();
  ConvShape s{q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9],
              q[10], q[11], q[12], q[13], q[14], q[15], q[16], q[17], q[18]};
  return s;
}

// dnnl::error carries a status; N-API callers need a JS exception with the shape in it.
template <typename F>
auto Guard(Napi::Env env, const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(env, "oneDNN " + what + ": " + e.what());
  }
}

ConvForward& GetForward(const ConvShape& s, float alpha) {
  std::string key = s.Key("fwd") + "," + std::to_string(alpha);
  auto it = fwd_cache.find(key);
  if (it != fwd_cache.end()) return *it->second;
  auto e = std::make_unique<ConvForward>();
  e->pd = ForwardPd(s, alpha);
  e->prim = dnnl::convolution_forward(e->pd);
  e->src.Init(s.Src(), e->pd.src_desc(), true, false, &scratch[0]);
  e->dst = memory(e->pd.dst_desc(), Engine(), DNNL_MEMORY_NONE);
  if (s.has_bias) e->bias = memory(s.Bias(), Engine(), DNNL_MEMORY_NONE);
  e->wei.Init(s.WeiUser(), e->pd.weights_desc(), true, false);
  impl_names[key] = e->pd.impl_info_str();
  return *fwd_cache.emplace(key, std::move(e)).first->second;
}

ConvBackwardData& GetBackwardData(const ConvShape& s) {
  std::string key = s.Key("bwd_data");
  auto it = bwd_data_cache.find(key);
  if (it != bwd_data_cache.end()) return *it->second;
  auto e = std::make_unique<ConvBackwardData>();
  ConvShape plain = s;
  plain.act = 0;
  plain.has_bias = 0;
  auto hint = ForwardPd(plain, 0.f);
  dnnl::convolution_backward_data::desc d(algorithm::convolution_direct, s.Src(), s.WeiAny(), s.Dst(s.Low()),
                                          s.Strides(), s.Dilates(), s.PadL(), s.PadR());
  e->pd = dnnl::convolution_backward_data::primitive_desc(d, Engine(), hint);
  e->prim = dnnl::convolution_backward_data(e->pd);
  e->diff_dst.Init(s.Dst(), e->pd.diff_dst_desc(), true, false, &scratch[0]);
  e->diff_src = memory(e->pd.diff_src_desc(), Engine(), DNNL_MEMORY_NONE);
  e->wei.Init(s.WeiUser(), e->pd.weights_desc(), true, false);
  impl_names[key] = e->pd.impl_info_str();
  return *bwd_data_cache.emplace(key, std::move(e)).first->second;
}

ConvBackwardWeights& GetBackwardWeights(const ConvShape& s) {
  std::string key = s.Key("bwd_wei");
  auto it = bwd_wei_cache.find(key);
  if (it != bwd_wei_cache.end()) return *it->second;
  auto e = std::make_unique<ConvBackwardWeights>();
  ConvShape plain = s;
  plain.act = 0;
  plain.has_bias = 0;
  auto hint = ForwardPd(plain, 0.f);
  // Gradients are accumulated and written in f32 (diff weights any layout, f32).
  memory::desc diff_wei({s.o, s.c, s.kh, s.kw}, dt::f32, tag::any);
  dnnl::convolution_backward_weights::desc d(algorithm::convolution_direct, s.Src(s.Low()), diff_wei,
                                             s.Dst(s.Low()), s.Strides(), s.Dilates(), s.PadL(), s.PadR());
  e->pd = dnnl::convolution_backward_weights::primitive_desc(d, Engine(), hint);
  e->prim = dnnl::convolution_backward_weights(e->pd);
  e->src.Init(s.Src(), e->pd.src_desc(), true, false, &scratch[0]);
  e->diff_dst.Init(s.Dst(), e->pd.diff_dst_desc(), true, false, &scratch[1]);
  e->diff_wei.Init(s.WeiUser(), e->pd.diff_weights_desc(), false, true);
  impl_names[key] = e->pd.impl_info_str();
  return *bwd_wei_cache.emplace(key, std::move(e)).first->second;
}

// convForward(x, filter, bias | null, out, params: Int32Array(19), alpha): out = act(conv(x) + bias)
// Bf16 = true: x and filter are rounded to bf16 inside; out is accumulated and written in f32.
// The filter may also come as the Uint8Array packConvFilter returned for the same params, alpha
// and precision: a constant filter already in the layout (and type) the primitive reads.
template <bool Bf16>
Napi::Value ConvForwardJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConvShape s = ReadShape(info[4]);
  s.bf16 = Bf16;
  float* x = F32(info[0], s.n * s.h * s.w * s.c, "x");
  const bool kept = info[1].IsTypedArray() && info[1].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
  float* w = kept ? nullptr : F32(info[1], s.kh * s.kw * s.c * s.o, "filter");
  uint8_t* w_kept = kept ? info[1].As<Napi::Uint8Array>().Data() : nullptr;
  const size_t w_kept_bytes = kept ? info[1].As<Napi::Uint8Array>().ByteLength() : 0;
  float* b = s.has_bias ? F32(info[2], s.o, "bias") : nullptr;
  float* y = F32(info[3], s.n * s.oh * s.ow * s.o, "out");
  float alpha = info.Length() > 5 && info[5].IsNumber() ? info[5].As<Napi::Number>().FloatValue() : 0.f;
  Guard(env, "conv forward " + s.Key(""), [&] {
    std::lock_guard<std::mutex> lock(cache_mutex);
    ConvForward& e = GetForward(s, alpha);
    if (kept && w_kept_bytes != e.wei.InnerSize()) {
      throw Napi::RangeError::New(env, "kept filter has " + std::to_string(w_kept_bytes) + " bytes, this conv needs " +
                                           std::to_string(e.wei.InnerSize()) + " (packConvFilter of other params?)");
    }
    auto& strm = Stream();
    e.dst.set_data_handle(y);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e.src.In(strm, x)},
                                         {DNNL_ARG_WEIGHTS, kept ? e.wei.Kept(w_kept) : e.wei.In(strm, w)},
                                         {DNNL_ARG_DST, e.dst}};
    if (b) {
      e.bias.set_data_handle(b);
      args[DNNL_ARG_BIAS] = e.bias;
    }
    e.prim.execute(strm, args);
    strm.wait();
  });
  return env.Undefined();
}

// packConvFilter(filter, params, bf16, alpha): the filter in the layout and type convForward's
// primitive for these params reads (blocked, bf16 under bf16), as a new Uint8Array: a constant
// filter converted once instead of on every call. The conversion is the per-call one, so results
// are the same bits.
Napi::Value PackConvFilterJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConvShape s = ReadShape(info[1]);
  s.bf16 = info.Length() > 2 && info[2].ToBoolean().Value();
  float* w = F32(info[0], s.kh * s.kw * s.c * s.o, "filter");
  float alpha = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().FloatValue() : 0.f;
  Napi::Uint8Array out;
  Guard(env, "pack conv filter " + s.Key(""), [&] {
    std::lock_guard<std::mutex> lock(cache_mutex);
    ConvForward& e = GetForward(s, alpha);
    out = Napi::Uint8Array::New(env, e.wei.InnerSize());
    if (e.wei.same) {
      std::memcpy(out.Data(), w, e.wei.InnerSize());
      return;
    }
    memory user(e.wei.user.get_desc(), Engine(), w);
    memory packed = e.wei.Kept(out.Data());
    auto& strm = Stream();
    e.wei.Convert(strm, user, packed);
    strm.wait();
  });
  return out;
}

// convBackwardData(dy, filter, dx, params): dx = conv2DBackpropInput(dy, filter)
template <bool Bf16>
Napi::Value ConvBackwardDataJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConvShape s = ReadShape(info[3]);
  s.bf16 = Bf16;
  float* dy = F32(info[0], s.n * s.oh * s.ow * s.o, "dy");
  float* w = F32(info[1], s.kh * s.kw * s.c * s.o, "filter");
  float* dx = F32(info[2], s.n * s.h * s.w * s.c, "dx");
  Guard(env, "conv backward data " + s.Key(""), [&] {
    std::lock_guard<std::mutex> lock(cache_mutex);
    ConvBackwardData& e = GetBackwardData(s);
    auto& strm = Stream();
    e.diff_src.set_data_handle(dx);
    e.prim.execute(strm, {{DNNL_ARG_DIFF_DST, e.diff_dst.In(strm, dy)},
                          {DNNL_ARG_WEIGHTS, e.wei.In(strm, w)},
                          {DNNL_ARG_DIFF_SRC, e.diff_src}});
    strm.wait();
  });
  return env.Undefined();
}

// convBackwardWeights(x, dy, dfilter, params): dfilter = conv2DBackpropFilter(x, dy)
template <bool Bf16>
Napi::Value ConvBackwardWeightsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConvShape s = ReadShape(info[3]);
  s.bf16 = Bf16;
  float* x = F32(info[0], s.n * s.h * s.w * s.c, "x");
  float* dy = F32(info[1], s.n * s.oh * s.ow * s.o, "dy");
  float* dw = F32(info[2], s.kh * s.kw * s.c * s.o, "dfilter");
  Guard(env, "conv backward weights " + s.Key(""), [&] {
    std::lock_guard<std::mutex> lock(cache_mutex);
    ConvBackwardWeights& e = GetBackwardWeights(s);
    auto& strm = Stream();
    e.diff_wei.user.set_data_handle(dw);
    e.prim.execute(strm, {{DNNL_ARG_SRC, e.src.In(strm, x)},
                          {DNNL_ARG_DIFF_DST, e.diff_dst.In(strm, dy)},
                          {DNNL_ARG_DIFF_WEIGHTS, e.diff_wei.Inner()}});
    if (!e.diff_wei.same) e.diff_wei.to_user.execute(strm, e.diff_wei.inner, e.diff_wei.user);
    strm.wait();
  });
  return env.Undefined();
}

// matMul(a, b, bias | null, out, params Int32Array [batchA, batchB, M, K, N, transposeA,
// transposeB, hasBias, act], alpha): out[bt] = act(op(a[bt]) x op(b[bt]) + bias); a batch of 1
// broadcasts. Transposes are expressed as strides, so in f32 no operand is copied; in bf16 each
// operand is converted with its strides kept (a contiguous pass), bias and out stay f32. In bf16,
// b may also come as a Uint16Array already in bf16 (the same elements in the same order, rounded
// to nearest even): a constant weight converted once by the caller instead of on every call.
template <bool Bf16>
Napi::Value MatMulJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[4].As<Napi::Int32Array>().ElementLength() < 9) {
    throw Napi::TypeError::New(env, "matmul params must be an Int32Array of 9 entries");
  }
  const int32_t* q = info[4].As<Napi::Int32Array>().Data();
  int64_t ba = q[0], bb = q[1], m = q[2], k = q[3], n = q[4];
  bool ta = q[5] != 0, tb = q[6] != 0, has_bias = q[7] != 0;
  int64_t act = q[8];
  int64_t bo = ba > bb ? ba : bb;
  float* a = F32(info[0], ba * m * k, "a");
  const bool b_is_bf16 = Bf16 && info[1].IsTypedArray() &&
                         info[1].As<Napi::TypedArray>().TypedArrayType() == napi_uint16_array;
  uint16_t* b16 = nullptr;
  float* b = nullptr;
  if (b_is_bf16) {
    auto arr = info[1].As<Napi::Uint16Array>();
    if (arr.ElementLength() < static_cast<size_t>(bb * k * n)) {
      std::ostringstream s;
      s << "b has " << arr.ElementLength() << " elements, needs " << bb * k * n;
      throw Napi::RangeError::New(env, s.str());
    }
    b16 = arr.Data();
  } else {
    b = F32(info[1], bb * k * n, "b");
  }
  float* bias = has_bias ? F32(info[2], n, "bias") : nullptr;
  float* c = F32(info[3], bo * m * n, "out");
  float alpha = info.Length() > 5 && info[5].IsNumber() ? info[5].As<Napi::Number>().FloatValue() : 0.f;
  std::ostringstream key;
  key << ba << ',' << bb << ',' << m << ',' << k << ',' << n << ',' << ta << ',' << tb << ',' << has_bias
      << ',' << act << ',' << alpha << ',' << Bf16;
  Guard(env, "matmul " + key.str(), [&] {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto it = matmul_cache.find(key.str());
    MatMul* e;
    if (it == matmul_cache.end()) {
      auto fresh = std::make_unique<MatMul>();
      const memory::dims a_strides = ta ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1};
      const memory::dims b_strides = tb ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1};
      const dt low = Bf16 ? dt::bf16 : dt::f32;
      memory::desc a_md({ba, m, k}, low, a_strides);
      memory::desc b_md({bb, k, n}, low, b_strides);
      memory::desc c_md({bo, m, n}, dt::f32, memory::dims{m * n, n, 1});
      memory::desc bias_md({1, 1, n}, dt::f32, memory::dims{n, n, 1});
      auto d = has_bias ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md) : dnnl::matmul::desc(a_md, b_md, c_md);
      dnnl::matmul::primitive_desc pd(d, ActivationAttr(act, alpha), Engine());
      fresh->prim = dnnl::matmul(pd);
      fresh->a.Init(memory::desc({ba, m, k}, dt::f32, a_strides), a_md, true, false, &scratch[0]);
      fresh->b.Init(memory::desc({bb, k, n}, dt::f32, b_strides), b_md, true, false, &scratch[1]);
      fresh->c = memory(c_md, Engine(), DNNL_MEMORY_NONE);
      if (has_bias) fresh->bias = memory(bias_md, Engine(), DNNL_MEMORY_NONE);
      impl_names["matmul" + key.str()] = pd.impl_info_str();
      e = matmul_cache.emplace(key.str(), std::move(fresh)).first->second.get();
    } else {
      e = it->second.get();
    }
    auto& strm = Stream();
    e->c.set_data_handle(c);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, e->a.In(strm, a)},
        {DNNL_ARG_WEIGHTS, b16 ? e->b.Kept(b16) : e->b.In(strm, b)},
        {DNNL_ARG_DST, e->c}};
    if (bias) {
      e->bias.set_data_handle(bias);
      args[DNNL_ARG_BIAS] = e->bias;
    }
    e->prim.execute(strm, args);
    strm.wait();
  });
  return env.Undefined();
}

// Training-mode batch normalization on NHWC activations (biased variance, as PyTorch normalises
// with). Forward (oneDNN batch_normalization): y = gamma*(x-mean)/sqrt(var+eps) + beta, then ReLU
// if asked, plus the batch mean and variance; one primitive where the TF.js composite makes ~8
// elementwise passes over the activation (2-3 ms vs ~30 ms for [16,96,96,32] on 2 cores).
// Backward: BatchNormBackwardNhwc below.
struct BatchNorm {
  dnnl::batch_normalization_forward fwd;
  // The same with ReLU fused (fuse_norm_relu): one pass less over the activation. In training
  // it also writes a workspace (the ReLU mask), which the backward here does not use: it masks
  // dy by y > 0 itself, so the kernel's inputs and outputs stay those of the unfused op.
  dnnl::batch_normalization_forward fwd_relu;
  bool relu_fused = false;
  memory src, dst, mean, variance, scale, shift, workspace;
  std::vector<uint8_t> ws;
};
std::unordered_map<std::string, std::unique_ptr<BatchNorm>> bn_cache;

BatchNorm& GetBatchNorm(int64_t n, int64_t h, int64_t w, int64_t c, float eps) {
  std::ostringstream k;
  k << "bn," << n << ',' << h << ',' << w << ',' << c << ',' << eps;
  auto it = bn_cache.find(k.str());
  if (it != bn_cache.end()) return *it->second;
  auto e = std::make_unique<BatchNorm>();
  memory::desc data({n, c, h, w}, dt::f32, tag::nhwc);
  memory::desc vec({c}, dt::f32, tag::x);
  auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  dnnl::batch_normalization_forward::desc fd(prop_kind::forward_training, data, eps, flags);
  dnnl::batch_normalization_forward::primitive_desc fwd_pd(fd, Engine());
  e->fwd = dnnl::batch_normalization_forward(fwd_pd);
  dnnl::batch_normalization_forward::desc rd(prop_kind::forward_training, data, eps,
                                             flags | dnnl::normalization_flags::fuse_norm_relu);
  dnnl::batch_normalization_forward::primitive_desc relu_pd(rd, Engine());
  // Only where an optimised kernel takes the fused ReLU; the reference one is far slower than
  // the separate pass.
  const std::string relu_impl = relu_pd.impl_info_str();
  if (relu_impl.rfind("ref", 0) != 0) {
    e->fwd_relu = dnnl::batch_normalization_forward(relu_pd);
    e->ws.resize(relu_pd.workspace_desc().get_size());
    e->workspace = memory(relu_pd.workspace_desc(), Engine(), e->ws.data());
    e->relu_fused = true;
  }
  impl_names[k.str() + ",relu"] = relu_impl;
  for (memory* m : {&e->src, &e->dst}) *m = memory(data, Engine(), DNNL_MEMORY_NONE);
  for (memory* m : {&e->mean, &e->variance, &e->scale, &e->shift})
    *m = memory(vec, Engine(), DNNL_MEMORY_NONE);
  impl_names[k.str()] = fwd_pd.impl_info_str();
  return *bn_cache.emplace(k.str(), std::move(e)).first->second;
}

// [N, H, W, C] (and a flag) from an Int32Array argument.
std::array<int64_t, 5> BatchNormDims(const Napi::Value& v, uint32_t need) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      v.As<Napi::Int32Array>().ElementLength() < need) {
    throw Napi::TypeError::New(v.Env(), need > 4 ? "batch norm dims must be an Int32Array [N, H, W, C, relu]"
                                                 : "batch norm dims must be an Int32Array [N, H, W, C]");
  }
  auto d = v.As<Napi::Int32Array>();
  for (uint32_t i = 0; i < 4; i++) {
    if (d[i] <= 0) throw Napi::RangeError::New(v.Env(), "batch norm dims must be positive");
  }
  return {d[0], d[1], d[2], d[3], need > 4 ? d[4] : 0};
}

// batchNormForward(x, gamma, beta, y, mean, variance, dims: Int32Array[N,H,W,C,relu], eps)
// relu: 0 none, 1 ReLU (fused into the primitive where oneDNN has an optimised kernel for it),
// 2 ReLU as a separate pass (the unfused path, kept to compare against).
Napi::Value BatchNormForwardJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [n, h, w, c, relu] = BatchNormDims(info[6], 5);
  const size_t size = static_cast<size_t>(n * h * w * c);
  float* x = F32(info[0], size, "x");
  float* gamma = F32(info[1], c, "gamma");
  float* beta = F32(info[2], c, "beta");
  float* y = F32(info[3], size, "y");
  float* mean = F32(info[4], c, "mean");
  float* variance = F32(info[5], c, "variance");
  const float eps = info[7].As<Napi::Number>().FloatValue();
  bool fused = false;
  Guard(env, "batch norm forward", [&] {
    std::lock_guard<std::mutex> lock(cache_mutex);
    BatchNorm& e = GetBatchNorm(n, h, w, c, eps);
    e.src.set_data_handle(x);
    e.dst.set_data_handle(y);
    e.mean.set_data_handle(mean);
    e.variance.set_data_handle(variance);
    e.scale.set_data_handle(gamma);
    e.shift.set_data_handle(beta);
    auto& strm = Stream();
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, e.src},       {DNNL_ARG_DST, e.dst},
                                            {DNNL_ARG_MEAN, e.mean},     {DNNL_ARG_VARIANCE, e.variance},
                                            {DNNL_ARG_SCALE, e.scale},   {DNNL_ARG_SHIFT, e.shift}};
    fused = relu == 1 && e.relu_fused;
    if (fused) {
      args[DNNL_ARG_WORKSPACE] = e.workspace;
      e.fwd_relu.execute(strm, args);
    } else {
      e.fwd.execute(strm, args);
    }
    strm.wait();
  });
  if (relu && !fused) {
    const int64_t count = static_cast<int64_t>(size);
#pragma omp parallel for simd schedule(static) if (count > (1 << 16))
    for (int64_t j = 0; j < count; j++) y[j] = y[j] > 0.f ? y[j] : 0.f;
  }
  return env.Undefined();
}

// dy, masked by y > 0 when the forward applied ReLU (Masked). dy is loaded unconditionally so that
// the select needs no branch and the channel loops vectorise.
template <bool Masked>
inline float BatchNormGrad(const float* yr, const float* dr, int64_t j) {
  const float d = dr[j];
  return !Masked || yr[j] > 0.f ? d : 0.f;
}

// Backward of training BatchNorm on NHWC rows of c channels, with g = BatchNormGrad (y may be
// null when not Masked):
//   dbeta = sum g, dgamma = rstd * sum g*(x-mean),
//   dx = gamma*rstd * (g - dbeta/M - (x-mean) * rstd^2 * sum g*(x-mean) / M).
// Two passes over memory (sums, then dx) reading y in place, where oneDNN 2.6's nhwc backward
// plus a separate masking pass took 3-8x as long (9.6 ms vs ~3 for [16,96,96,32] on 2 cores).
// The sums are float over blocks of 64 rows, then double across blocks in block order, so the
// result does not depend on the number of threads.
template <bool Masked>
void BatchNormBackwardNhwc(const float* x, const float* dy, const float* y, const float* gamma, const float* mean,
                           const float* variance, float eps, int64_t rows, int64_t c, float* dx, float* dgamma,
                           float* dbeta) {
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (rows + kBlock - 1) / kBlock;
  std::vector<double> part(static_cast<size_t>(blocks * 2 * c));
  const bool parallel = rows * c > (1 << 16);
#pragma omp parallel if (parallel)
  {
    std::vector<float> sg(c), sgx(c);
    float* __restrict a = sg.data();
    float* __restrict bx = sgx.data();
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
      std::fill(sg.begin(), sg.end(), 0.f);
      std::fill(sgx.begin(), sgx.end(), 0.f);
      const int64_t r1 = std::min(rows, (b + 1) * kBlock);
      for (int64_t r = b * kBlock; r < r1; r++) {
        const float* xr = x + r * c;
        const float* dr = dy + r * c;
        const float* yr = Masked ? y + r * c : nullptr;
#pragma omp simd
        for (int64_t j = 0; j < c; j++) {
          const float g = BatchNormGrad<Masked>(yr, dr, j);
          a[j] += g;
          bx[j] += g * (xr[j] - mean[j]);
        }
      }
      double* p = &part[static_cast<size_t>(b * 2 * c)];
      for (int64_t j = 0; j < c; j++) {
        p[j] = sg[j];
        p[c + j] = sgx[j];
      }
    }
  }
  std::vector<double> sum_g(c, 0.0), sum_gx(c, 0.0);
  for (int64_t b = 0; b < blocks; b++) {
    const double* p = &part[static_cast<size_t>(b * 2 * c)];
    for (int64_t j = 0; j < c; j++) {
      sum_g[j] += p[j];
      sum_gx[j] += p[c + j];
    }
  }
  std::vector<float> scale(c), shift(c), slope(c);
  for (int64_t j = 0; j < c; j++) {
    const float rstd = 1.f / std::sqrt(variance[j] + eps);
    dbeta[j] = static_cast<float>(sum_g[j]);
    dgamma[j] = static_cast<float>(sum_gx[j] * rstd);
    scale[j] = gamma[j] * rstd;
    shift[j] = static_cast<float>(sum_g[j] / static_cast<double>(rows));
    slope[j] = static_cast<float>(sum_gx[j] / static_cast<double>(rows) * rstd * rstd);
  }
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * c;
    const float* dr = dy + r * c;
    const float* yr = Masked ? y + r * c : nullptr;
    float* __restrict out = dx + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) {
      out[j] = scale[j] * (BatchNormGrad<Masked>(yr, dr, j) - shift[j] - (xr[j] - mean[j]) * slope[j]);
    }
  }
}

// batchNormBackward(x, dy, gamma, beta, mean, variance, y | null, dx, dgamma, dbeta, dims[N,H,W,C], eps)
Napi::Value BatchNormBackwardJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [n, h, w, c, unused] = BatchNormDims(info[10], 4);
  (void)unused;
  const size_t size = static_cast<size_t>(n * h * w * c);
  float* x = F32(info[0], size, "x");
  float* dy = F32(info[1], size, "dy");
  float* gamma = F32(info[2], c, "gamma");
  float* beta = F32(info[3], c, "beta");
  float* mean = F32(info[4], c, "mean");
  float* variance = F32(info[5], c, "variance");
  const float* y = info[6].IsNull() || info[6].IsUndefined() ? nullptr : F32(info[6], size, "y");
  float* dx = F32(info[7], size, "dx");
  float* dgamma = F32(info[8], c, "dgamma");
  float* dbeta = F32(info[9], c, "dbeta");
  const float eps = info[11].As<Napi::Number>().FloatValue();
  (void)beta;
  const auto backward = y ? BatchNormBackwardNhwc<true> : BatchNormBackwardNhwc<false>;
  backward(x, dy, y, gamma, mean, variance, eps, n * h * w, c, dx, dgamma, dbeta);
  return env.Undefined();
}

// Fused Adam update in place (PyTorch order of float32 operations, see gan-core's Adam):
// g = grad + wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
// p -= step * m / (sqrt(v)/bc2sqrt + eps). Every operation is IEEE float32 (no fast-math, no
// FMA contraction), so the result equals the tensor-op version bit for bit. One pass over
// memory instead of ~15 elementwise kernels. k = [b1, 1-b1, b2, 1-b2, wd, bc2sqrt, eps, step].
Napi::Value AdamUpdateJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "param must be a Float32Array");
  const size_t n = info[0].As<Napi::TypedArray>().ElementLength();
  float* p = F32(info[0], n, "param");
  float* m = F32(info[1], n, "exp_avg");
  float* v = F32(info[2], n, "exp_avg_sq");
  const float* g = F32(info[3], n, "grad");
  const float* k = F32(info[4], 8, "constants");
  const float b1 = k[0], omb1 = k[1], b2 = k[2], omb2 = k[3], wd = k[4], bc2 = k[5], eps = k[6], step = k[7];
  const int64_t count = static_cast<int64_t>(n);
#pragma omp parallel for simd schedule(static) if (count > (1 << 16))
  for (int64_t j = 0; j < count; j++) {
    const float pj = p[j];
    const float gj = wd != 0.f ? g[j] + pj * wd : g[j];
    const float mj = m[j] * b1 + gj * omb1;
    const float vj = v[j] * b2 + (gj * gj) * omb2;
    const float denom = std::sqrt(vj) / bc2 + eps;
    p[j] = pj - (mj / denom) * step;
    m[j] = mj;
    v[j] = vj;
  }
  return env.Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "threads must be >= 1");
  omp_set_num_threads(n);
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

// The most capable instruction set oneDNN dispatches to here (after DNNL_MAX_CPU_ISA), e.g.
// "avx512_core_bf16": bf16 dot products run natively on avx512_core_bf16 (vdpbf16ps) and
// avx512_core_amx (AMX tiles); avx512_core emulates them, and older ISAs lack most bf16 kernels.
Napi::Value CpuIsa(const Napi::CallbackInfo& info) {
  const char* name = "unknown";
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::all: name = "all"; break;
    case dnnl::cpu_isa::sse41: name = "sse41"; break;
    case dnnl::cpu_isa::avx: name = "avx"; break;
    case dnnl::cpu_isa::avx2: name = "avx2"; break;
    case dnnl::cpu_isa::avx2_vnni: name = "avx2_vnni"; break;
    case dnnl::cpu_isa::avx512_mic: name = "avx512_mic"; break;
    case dnnl::cpu_isa::avx512_mic_4ops: name = "avx512_mic_4ops"; break;
    case dnnl::cpu_isa::avx512_core: name = "avx512_core"; break;
    case dnnl::cpu_isa::avx512_core_vnni: name = "avx512_core_vnni"; break;
    case dnnl::cpu_isa::avx512_core_bf16: name = "avx512_core_bf16"; break;
    case dnnl::cpu_isa::avx512_core_amx: name = "avx512_core_amx"; break;
    default: break;
  }
  return Napi::String::New(info.Env(), name);
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  const dnnl_version_t* v = dnnl_version();
  std::ostringstream s;
  s << v->major << '.' << v->minor << '.' << v->patch;
  return Napi::String::New(info.Env(), s.str());
}

Napi::Value CacheStats(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(cache_mutex);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("convForward", static_cast<double>(fwd_cache.size()));
  o.Set("convBackwardData", static_cast<double>(bwd_data_cache.size()));
  o.Set("convBackwardWeights", static_cast<double>(bwd_wei_cache.size()));
  o.Set("matMul", static_cast<double>(matmul_cache.size()));
  o.Set("batchNorm", static_cast<double>(bn_cache.size()));
  Napi::Object impls = Napi::Object::New(info.Env());
  for (auto& kv : impl_names) impls.Set(kv.first, kv.second);
  o.Set("implementations", impls);
  return o;
}

Napi::Value ClearCache(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(cache_mutex);
  fwd_cache.clear();
  bwd_data_cache.clear();
  bwd_wei_cache.clear();
  matmul_cache.clear();
  bn_cache.clear();
  impl_names.clear();
  for (Scratch& slot : scratch) slot.Release();
  return info.Env().Undefined();
}

// resizeBilinearGrad(dy, dx, dims: Int32Array[batch, xh, xw, yh, yw, depth, alignCorners, halfPixelCenters])
// The gradient of a bilinear resize of [batch, xh, xw, depth] images to yh×yw: each dy entry
// scattered onto the four source pixels the forward read. The arithmetic of @squid-ad/backend's
// JS kernel (resize-bilinear-grad.ts) exactly, so the same bits: float64 coordinates and weights,
// each update a float64 sum rounded to float32 when stored, in the same order (no FMA:
// -ffp-contract=off). Images in parallel; that kernel runs on one thread.
Napi::Value ResizeBilinearGradJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto d = Int32Arg(info[2], 8, "resize dims [batch, xh, xw, yh, yw, depth, align, half]");
  for (uint32_t i = 0; i < 6; i++) {
    if (d[i] <= 0) throw Napi::RangeError::New(env, "resize dims must be positive");
  }
  const int64_t batch = d[0], xh = d[1], xw = d[2], yh = d[3], yw = d[4], depth = d[5];
  const bool align = d[6] == 1;
  const double half = d[7] == 1 ? 0.5 : 0.0;
  const float* dy = F32(info[0], static_cast<size_t>(batch * yh * yw * depth), "dy");
  float* dx = F32(info[1], static_cast<size_t>(batch * xh * xw * depth), "dx");
  const double row_ratio = static_cast<double>(align && yh > 1 ? xh - 1 : xh) / static_cast<double>(align && yh > 1 ? yh - 1 : yh);
  const double col_ratio = static_cast<double>(align && yw > 1 ? xw - 1 : xw) / static_cast<double>(align && yw > 1 ? yw - 1 : yw);
#pragma omp parallel for schedule(static) if (batch > 1)
  for (int64_t b = 0; b < batch; b++) {
    float* image = dx + b * xh * xw * depth;
    std::memset(image, 0, sizeof(float) * static_cast<size_t>(xh * xw * depth));
    const float* src = dy + b * yh * yw * depth;
    for (int64_t r = 0; r < yh; r++) {
      const double fr = row_ratio * (static_cast<double>(r) + half) - half;
      const int64_t top = std::max<int64_t>(0, static_cast<int64_t>(std::floor(fr)));
      const int64_t bottom = std::min<int64_t>(xh - 1, static_cast<int64_t>(std::ceil(fr)));
      const double rl = fr - static_cast<double>(top);
      for (int64_t c = 0; c < yw; c++, src += depth) {
        const double fc = col_ratio * (static_cast<double>(c) + half) - half;
        const int64_t left = std::max<int64_t>(0, static_cast<int64_t>(std::floor(fc)));
        const int64_t right = std::min<int64_t>(xw - 1, static_cast<int64_t>(std::ceil(fc)));
        const double cl = fc - static_cast<double>(left);
        float* tl = image + (top * xw + left) * depth;
        float* tr = image + (top * xw + right) * depth;
        float* bl = image + (bottom * xw + left) * depth;
        float* br = image + (bottom * xw + right) * depth;
        const double wtl = (1 - rl) * (1 - cl), wtr = (1 - rl) * cl, wbl = rl * (1 - cl), wbr = rl * cl;
        // Channels are independent, so they vectorise; at the borders two corners can be the same
        // pixel, and the four updates still apply in this order to each channel.
#pragma omp simd
        for (int64_t k = 0; k < depth; k++) {
          const double v = src[k];
          tl[k] = static_cast<float>(static_cast<double>(tl[k]) + v * wtl);
          tr[k] = static_cast<float>(static_cast<double>(tr[k]) + v * wtr);
          bl[k] = static_cast<float>(static_cast<double>(bl[k]) + v * wbl);
          br[k] = static_cast<float>(static_cast<double>(br[k]) + v * wbr);
        }
      }
    }
  }
  return env.Undefined();
}

// copyRows(src, dst, params: Int32Array [outer, run, srcStride, dstStride, srcOffset, dstOffset]):
// for each of `outer` rows, `run` float32s from src + srcOffset + o*srcStride to dst + dstOffset +
// o*dstStride (counts in elements). Concat and SplitV are one call per part: wasm's own copy them
// with a typed-array set per row on one thread. Rows in parallel; a few long rows in chunks.
Napi::Value CopyRowsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto q = Int32Arg(info[2], 6, "copy params [outer, run, srcStride, dstStride, srcOffset, dstOffset]");
  const int64_t outer = q[0], run = q[1], src_stride = q[2], dst_stride = q[3], src_off = q[4], dst_off = q[5];
  if (outer <= 0 || run <= 0 || src_stride < run || dst_stride < run || src_off < 0 || dst_off < 0) {
    throw Napi::RangeError::New(env, "copy params out of range");
  }
  float* src = F32(info[0], static_cast<size_t>(src_off + (outer - 1) * src_stride + run), "src");
  float* dst = F32(info[1], static_cast<size_t>(dst_off + (outer - 1) * dst_stride + run), "dst");
  const bool parallel = outer * run > (1 << 16);
  if (outer >= 64 || !parallel) {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t o = 0; o < outer; o++) {
      std::memcpy(dst + dst_off + o * dst_stride, src + src_off + o * src_stride, sizeof(float) * run);
    }
  } else {
    constexpr int64_t kChunk = 1 << 14;
    const int64_t chunks = (run + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) collapse(2)
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t k = 0; k < chunks; k++) {
        const int64_t n = std::min(kChunk, run - k * kChunk);
        std::memcpy(dst + dst_off + o * dst_stride + k * kChunk, src + src_off + o * src_stride + k * kChunk,
                    sizeof(float) * n);
      }
    }
  }
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("resizeBilinearGrad", Napi::Function::New(env, ResizeBilinearGradJs));
  exports.Set("copyRows", Napi::Function::New(env, CopyRowsJs));
  exports.Set("convForward", Napi::Function::New(env, ConvForwardJs<false>));
  exports.Set("convForwardBf16", Napi::Function::New(env, ConvForwardJs<true>));
  exports.Set("convBackwardDataBf16", Napi::Function::New(env, ConvBackwardDataJs<true>));
  exports.Set("convBackwardWeightsBf16", Napi::Function::New(env, ConvBackwardWeightsJs<true>));
  exports.Set("matMulBf16", Napi::Function::New(env, MatMulJs<true>));
  exports.Set("packConvFilter", Napi::Function::New(env, PackConvFilterJs));
  exports.Set("cpuIsa", Napi::Function::New(env, CpuIsa));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdateJs));
  exports.Set("batchNormForward", Napi::Function::New(env, BatchNormForwardJs));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackwardJs));
  exports.Set("convBackwardData", Napi::Function::New(env, ConvBackwardDataJs<false>));
  exports.Set("convBackwardWeights", Napi::Function::New(env, ConvBackwardWeightsJs<false>));
  exports.Set("matMul", Napi::Function::New(env, MatMulJs<false>));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("cacheStats", Napi::Function::New(env, CacheStats));
  exports.Set("clearCache", Napi::Function::New(env, ClearCache));
  return exports;
}

}  // namespace

NODE_API_MODULE(squid_onednn, Init)
