/* For the tests only (test/codec.test.ts): the native encoder (encode.c) run on a GstBuffer built
 * from a JS description, so that TypeScript's decoder can be checked against what C encodes, fuzzed,
 * without sockets.
 *
 * encodeForTest({ id, pts, dts, duration, offset, offsetEnd, flags: bigint/number..., baseMonotonic,
 *   capsItem?: Uint8Array, cached: boolean, forget?: number[],
 *   memories: [{ bytes: Uint8Array, fd: boolean, offset?: number }],
 *   video?: { format, width, height, nPlanes, flags, offsets: number[], strides: number[] },
 *   rois?: [{ type, id, parentId, x, y, w, h, params: string[] }],
 *   vendor?: { media, tensorType, dims: number[][], caps?: string }, unixfd?: boolean, latency?: bigint })
 *   -> { data: Uint8Array | null, nFds: number, maxsizes: number[], bufIds: number[], fds: number[] }
 * With `vendor` (the template TypeScript makes at set_caps, and the caps for a frame's layout) it runs
 * the vendor's encoder instead: data is null where their wire cannot carry the buffer.
 * With `unixfd` it runs the encoder of upstream's unixfd wire (their NEW_BUFFER payload, timestamps as
 * instants on CLOCK_MONOTONIC with the sink's `latency`): null when a memory is not on an fd.
 * fd memories are memfds of the sink's allocator holding `bytes` at `offset`.
 * decodeForTest(payload, nFds, cached, caps?): the receiver's native decoder (decode.c) on a payload:
 * the description it makes, or null for what it leaves to the element.
 * decodeUnixfdForTest(command, nFds): the same, for a command of upstream's unixfd wire. */
#include "qtisocket.h"

#include <string.h>

static GstMemory *
make_memory (napi_env env, napi_value m)
{
  napi_value v;
  void *data = NULL;
  size_t len = 0;
  gsize offset = (gsize) qs_prop_number (env, m, "offset", 0);
  GstMemory *mem;
  GstMapInfo map;

  if (napi_get_named_property (env, m, "bytes", &v) == napi_ok)
    napi_get_typedarray_info (env, v, NULL, &len, &data, NULL, NULL);
  if (!qs_prop_bool (env, m, "fd")) {
    gpointer copy = g_malloc0 (MAX (len, 1));
    if (len)
      memcpy (copy, data, len);
    return gst_memory_new_wrapped (0, copy, MAX (len, 1), 0, len, copy, g_free);
  }
  mem = qs_memfd_alloc (offset + MAX (len, 1));
  if (!mem)
    return NULL;
  if (gst_memory_map (mem, &map, GST_MAP_WRITE)) {
    memcpy (map.data + offset, data, len);
    gst_memory_unmap (mem, &map);
  }
  gst_memory_resize (mem, offset, len);
  return mem;
}

static void
add_rois (napi_env env, napi_value spec, GstBuffer * buf)
{
  napi_value rois;
  uint32_t i, n = 0;
  if (napi_get_named_property (env, spec, "rois", &rois) != napi_ok ||
      napi_get_array_length (env, rois, &n) != napi_ok)
    return;
  for (i = 0; i < n; i++) {
    napi_value r, params;
    uint32_t j, n_params = 0;
    gchar *type;
    GstVideoRegionOfInterestMeta *meta;
    napi_get_element (env, rois, i, &r);
    type = qs_prop_string (env, r, "type");
    meta = gst_buffer_add_video_region_of_interest_meta (buf, type ? type : "",
        (guint) qs_prop_number (env, r, "x", 0), (guint) qs_prop_number (env, r, "y", 0),
        (guint) qs_prop_number (env, r, "w", 0), (guint) qs_prop_number (env, r, "h", 0));
    g_free (type);
    meta->id = (gint) qs_prop_number (env, r, "id", 0);
    meta->parent_id = (gint) qs_prop_number (env, r, "parentId", 0);
    if (napi_get_named_property (env, r, "params", &params) == napi_ok)
      napi_get_array_length (env, params, &n_params);
    for (j = 0; j < n_params; j++) {
      napi_value p;
      gchar *s;
      GstStructure *st;
      napi_get_element (env, params, j, &p);
      s = qs_napi_string (env, p);
      st = s ? gst_structure_from_string (s, NULL) : NULL;
      if (st)
        gst_video_region_of_interest_meta_add_param (meta, st);
      g_free (s);
    }
  }
}

static napi_value
encode_for_test (napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value spec, mems, video, caps, forget, result, data, nfds, maxsizes, vendor, ids, sent;
  gboolean is_vendor = FALSE;
  gint32 buf_ids[QS_VENDOR_MAX_BLOCKS];
  guint n_ids = 0;
  QsInstance *inst = g_new0 (QsInstance, 1);
  GstBuffer *buf = gst_buffer_new ();
  GstSegment seg;
  uint32_t i, n = 0;
  gint fds[QS_MAX_FDS];
  guint n_fds = 0;
  GBytes *bytes;
  void *out;
  QsPeer *peer = qs_peer_new ();
  QsEncodeArgs a = { buf, 0, &seg, 0, NULL, peer };

  napi_get_cb_info (env, info, &argc, &spec, NULL, NULL);
  gst_segment_init (&seg, GST_FORMAT_TIME);
  a.id = qs_prop_bigint (env, spec, "id");
  a.base_monotonic = qs_prop_bigint (env, spec, "baseMonotonic");
  peer->takes_cache = qs_prop_bool (env, spec, "cached");
  GST_BUFFER_PTS (buf) = qs_prop_bigint (env, spec, "pts");
  GST_BUFFER_DTS (buf) = qs_prop_bigint (env, spec, "dts");
  GST_BUFFER_DURATION (buf) = qs_prop_bigint (env, spec, "duration");
  GST_BUFFER_OFFSET (buf) = qs_prop_bigint (env, spec, "offset");
  GST_BUFFER_OFFSET_END (buf) = qs_prop_bigint (env, spec, "offsetEnd");
  if (napi_get_named_property (env, spec, "memories", &mems) == napi_ok)
    napi_get_array_length (env, mems, &n);
  for (i = 0; i < n; i++) {
    napi_value m;
    GstMemory *mem;
    napi_get_element (env, mems, i, &m);
    mem = make_memory (env, m);
    if (mem)
      gst_buffer_append_memory (buf, mem);
  }
  /* after the memories: appending them sets TAG_MEMORY */
  GST_BUFFER_FLAGS (buf) = (guint) qs_prop_number (env, spec, "flags", 0);
  if (napi_get_named_property (env, spec, "video", &video) == napi_ok) {
    napi_valuetype t;
    napi_typeof (env, video, &t);
    if (t == napi_object) {
      gsize offsets[4] = { 0 };
      gint strides[4] = { 0 };
      napi_value os, ss;
      napi_get_named_property (env, video, "offsets", &os);
      napi_get_named_property (env, video, "strides", &ss);
      for (i = 0; i < 4; i++) {
        napi_value x;
        double d = 0;
        if (napi_get_element (env, os, i, &x) == napi_ok && napi_get_value_double (env, x, &d) == napi_ok)
          offsets[i] = (gsize) d;
        d = 0;
        if (napi_get_element (env, ss, i, &x) == napi_ok && napi_get_value_double (env, x, &d) == napi_ok)
          strides[i] = (gint) d;
      }
      gst_buffer_add_video_meta_full (buf, (GstVideoFrameFlags) qs_prop_number (env, video, "flags", 0),
          (GstVideoFormat) qs_prop_number (env, video, "format", 0), (guint) qs_prop_number (env, video, "width", 0),
          (guint) qs_prop_number (env, video, "height", 0), (guint) qs_prop_number (env, video, "nPlanes", 1),
          offsets, strides);
    }
  }
  add_rois (env, spec, buf);
  if (napi_get_named_property (env, spec, "capsItem", &caps) == napi_ok) {
    void *p = NULL;
    size_t len = 0;
    if (napi_get_typedarray_info (env, caps, NULL, &len, &p, NULL, NULL) == napi_ok && p)
      a.caps_item = g_bytes_new (p, len);
  }
  if (peer->takes_cache) {
    uint32_t n_forget = 0;
    if (napi_get_named_property (env, spec, "forget", &forget) == napi_ok)
      napi_get_array_length (env, forget, &n_forget);
    for (i = 0; i < n_forget; i++) {
      napi_value x;
      uint32_t id = 0;
      napi_get_element (env, forget, i, &x);
      napi_get_value_uint32 (env, x, &id);
      g_array_append_val (peer->forget, id);
    }
  }

  /* the vendor's wire: the template TypeScript gives at set_caps, and the caps' layout */
  if (napi_get_named_property (env, spec, "vendor", &vendor) == napi_ok) {
    napi_valuetype t;
    napi_typeof (env, vendor, &t);
    if (t == napi_object) {
      napi_value dims;
      uint32_t n_tensors = 0;
      gchar *vcaps = qs_prop_string (env, vendor, "caps");
      is_vendor = TRUE;
      inst->vendor_media = (guint) qs_prop_number (env, vendor, "media", 0);
      inst->vendor_tensor_type = (guint) qs_prop_number (env, vendor, "tensorType", 0);
      inst->vendor_dims = g_array_new (FALSE, FALSE, sizeof (gint32));
      if (napi_get_named_property (env, vendor, "dims", &dims) == napi_ok)
        napi_get_array_length (env, dims, &n_tensors);
      inst->vendor_tensors = n_tensors;
      for (i = 0; i < n_tensors; i++) {
        napi_value d, x;
        uint32_t j, nd = 0;
        gint32 v = 0;
        napi_get_element (env, dims, i, &d);
        napi_get_array_length (env, d, &nd);
        v = (gint32) nd;
        g_array_append_val (inst->vendor_dims, v);
        for (j = 0; j < nd; j++) {
          napi_get_element (env, d, j, &x);
          napi_get_value_int32 (env, x, &v);
          g_array_append_val (inst->vendor_dims, v);
        }
      }
      if (vcaps) {
        GstCaps *c = gst_caps_from_string (vcaps);
        inst->has_vinfo = c && gst_video_info_from_caps (&inst->vinfo, c);
        if (c)
          gst_caps_unref (c);
        g_free (vcaps);
      }
    }
  }

  if (is_vendor) {
    bytes = qs_encode_vendor_buffer (inst, peer, buf, fds, &n_fds, buf_ids, &n_ids);
  } else if (qs_prop_bool (env, spec, "unixfd")) {
    /* upstream's unixfd wire: their NEW_BUFFER payload (the framing adds the header), with the sink's latency */
    bytes = qs_encode_unixfd_buffer (inst, &a, qs_prop_bigint (env, spec, "latency"), fds, &n_fds);
  } else {
    bytes = qs_encode_buffer (inst, &a, fds, &n_fds);
  }
  if (bytes) {
    napi_create_arraybuffer (env, g_bytes_get_size (bytes), &out, &data);
    memcpy (out, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    napi_create_typedarray (env, napi_uint8_array, g_bytes_get_size (bytes), data, 0, &data);
  } else {
    napi_get_null (env, &data);
  }
  napi_create_uint32 (env, n_fds, &nfds);
  napi_create_array (env, &ids);
  for (i = 0; i < n_ids; i++) {
    napi_value x;
    napi_create_int32 (env, buf_ids[i], &x);
    napi_set_element (env, ids, i, x);
  }
  napi_create_array (env, &sent);
  for (i = 0; i < n_fds; i++) {
    napi_value x;
    napi_create_int32 (env, fds[i], &x);
    napi_set_element (env, sent, i, x);
  }
  napi_create_array (env, &maxsizes);
  for (i = 0; i < gst_buffer_n_memory (buf); i++) {
    napi_value x;
    napi_create_double (env, gst_buffer_peek_memory (buf, i)->maxsize, &x);
    napi_set_element (env, maxsizes, i, x);
  }
  napi_create_object (env, &result);
  napi_set_named_property (env, result, "data", data);
  napi_set_named_property (env, result, "nFds", nfds);
  napi_set_named_property (env, result, "maxsizes", maxsizes);
  napi_set_named_property (env, result, "bufIds", ids);
  napi_set_named_property (env, result, "fds", sent);

  if (bytes)
    g_bytes_unref (bytes);
  if (a.caps_item)
    g_bytes_unref (a.caps_item);
  gst_buffer_unref (buf);
  qs_peer_unref (peer);
  g_clear_pointer (&inst->vendor_dims, g_array_unref);
  g_free (inst);
  return result;
}

/* a description as a Uint8Array (taking it), or null */
static napi_value
desc_value (napi_env env, GBytes * desc)
{
  napi_value result;
  void *out;
  if (!desc) {
    napi_get_null (env, &result);
    return result;
  }
  napi_create_arraybuffer (env, g_bytes_get_size (desc), &out, &result);
  memcpy (out, g_bytes_get_data (desc, NULL), g_bytes_get_size (desc));
  napi_create_typedarray (env, napi_uint8_array, g_bytes_get_size (desc), result, 0, &result);
  g_bytes_unref (desc);
  return result;
}

/* decodeForTest(payload: Uint8Array, nFds, cached, caps?: Uint8Array) -> Uint8Array (the description)
 * | null (left to the element) */
static napi_value
decode_for_test (napi_env env, napi_callback_info info)
{
  size_t argc = 4;
  napi_value argv[4];
  void *payload = NULL, *caps = NULL;
  size_t len = 0, caps_len = 0;
  uint32_t n_fds = 0;
  bool cached = false;
  gboolean caps_changed;
  GBytes *desc;

  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  napi_get_typedarray_info (env, argv[0], NULL, &len, &payload, NULL, NULL);
  napi_get_value_uint32 (env, argv[1], &n_fds);
  napi_get_value_bool (env, argv[2], &cached);
  if (argc > 3 && napi_get_typedarray_info (env, argv[3], NULL, &caps_len, &caps, NULL, NULL) != napi_ok)
    caps = NULL;
  desc = qs_decode_buffer (payload, len, n_fds, cached, caps, caps_len, &caps_changed);
  return desc_value (env, desc);
}

/* decodeUnixfdForTest(command: Uint8Array, nFds) -> Uint8Array (the description) | null (left to the
 * element): the native decoder of upstream's unixfd wire */
static napi_value
decode_unixfd_for_test (napi_env env, napi_callback_info info)
{
  size_t argc = 2;
  napi_value argv[2];
  void *msg = NULL;
  size_t len = 0;
  uint32_t n_fds = 0;
  GBytes *desc;

  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  napi_get_typedarray_info (env, argv[0], NULL, &len, &msg, NULL, NULL);
  napi_get_value_uint32 (env, argv[1], &n_fds);
  desc = qs_decode_unixfd_buffer (msg, len, n_fds);
  return desc_value (env, desc);
}

void
qs_codec_test_define (napi_env env, napi_value exports)
{
  napi_value fn;
  napi_create_function (env, "decodeUnixfdForTest", NAPI_AUTO_LENGTH, decode_unixfd_for_test, NULL, &fn);
  napi_set_named_property (env, exports, "decodeUnixfdForTest", fn);
  napi_create_function (env, "encodeForTest", NAPI_AUTO_LENGTH, encode_for_test, NULL, &fn);
  napi_set_named_property (env, exports, "encodeForTest", fn);
  napi_create_function (env, "decodeForTest", NAPI_AUTO_LENGTH, decode_for_test, NULL, &fn);
  napi_set_named_property (env, exports, "decodeForTest", fn);
}
