/* The sink's data plane for our wire (docs/protocol.md): one buffer message, encoded natively from
 * the GstBuffer, every buffer, with no call into TypeScript:
 *
 *   [CAPS] BUFFER [VIDEO_META] [ROI_META...] [DATA] [FDS] [FORGET]
 *
 * The records are those of layout.h (generated from lib/protocol/layout.ts, which TypeScript reads
 * and writes too). What is not per buffer stays in TypeScript: the CAPS item (made when the caps
 * change, sent with the first buffer of each connection and after each change), what the receiver
 * takes (inline memory, the fd cache: from its greeting), errors. */
#include "qtisocket.h"
#include "layout.h"
#include "wire.h"

#include <string.h>


/* an item's header; its body is appended by the caller, then item_end pads it */
static gsize
item_begin (GByteArray * out, guint32 identity)
{
  QsWireItem h = { identity, 0 };
  gsize at = out->len;
  g_byte_array_append (out, (const guint8 *) &h, sizeof h);
  return at;
}

static void
item_end (GByteArray * out, gsize at)
{
  guint32 length = out->len - at - sizeof (QsWireItem);
  memcpy (out->data + at + G_STRUCT_OFFSET (QsWireItem, length), &length, 4);
  qs_append_padding (out, length);
}

static void
append_padded (GByteArray * out, const gchar * s, gsize len)
{
  g_byte_array_append (out, (const guint8 *) s, len);
  qs_append_padding (out, len);
}

/* one ROI_META: the box, its type, its parameters as strings */
static void
encode_roi (GByteArray * out, GstVideoRegionOfInterestMeta * roi)
{
  const gchar *type = g_quark_to_string (roi->roi_type);
  gsize at = item_begin (out, QS_ITEM_ROI_META);
  QsWireRoi r = { roi->id, roi->parent_id, roi->x, roi->y, roi->w, roi->h, strlen (type),
    g_list_length (roi->params) };
  GList *l;

  g_byte_array_append (out, (const guint8 *) &r, sizeof r);
  append_padded (out, type, r.type_length);
  for (l = roi->params; l; l = l->next) {
    gchar *s = gst_structure_to_string (l->data);
    guint32 len = strlen (s);
    g_byte_array_append (out, (const guint8 *) &len, 4);
    append_padded (out, s, len);
    g_free (s);
  }
  item_end (out, at);
}

gboolean
qs_video_layout (QsInstance * inst, GstBuffer * buf, gboolean caps_too, QsWireVideoMeta * v)
{
  GstVideoMeta *vmeta = gst_buffer_get_video_meta (buf);
  guint i;

  memset (v, 0, sizeof *v);
  if (vmeta) {
    v->format = vmeta->format;
    v->width = vmeta->width;
    v->height = vmeta->height;
    v->n_planes = vmeta->n_planes;
    v->flags = vmeta->flags;
    for (i = 0; i < vmeta->n_planes && i < 4; i++) {
      v->offsets[i] = vmeta->offset[i];
      v->strides[i] = vmeta->stride[i];
    }
    return TRUE;
  }
  if (!caps_too || !inst->has_vinfo)
    return FALSE;
  v->format = GST_VIDEO_INFO_FORMAT (&inst->vinfo);
  v->width = GST_VIDEO_INFO_WIDTH (&inst->vinfo);
  v->height = GST_VIDEO_INFO_HEIGHT (&inst->vinfo);
  v->n_planes = GST_VIDEO_INFO_N_PLANES (&inst->vinfo);
  for (i = 0; i < v->n_planes && i < 4; i++) {
    v->offsets[i] = GST_VIDEO_INFO_PLANE_OFFSET (&inst->vinfo, i);
    v->strides[i] = GST_VIDEO_INFO_PLANE_STRIDE (&inst->vinfo, i);
  }
  return TRUE;
}

guint64
qs_running_time (const GstSegment * seg, GstClockTime ts)
{
  if (seg->format != GST_FORMAT_TIME || !GST_CLOCK_TIME_IS_VALID (ts))
    return GST_CLOCK_TIME_NONE;
  return gst_segment_to_running_time (seg, GST_FORMAT_TIME, ts);
}

GBytes *
qs_encode_buffer (QsInstance * inst, const QsEncodeArgs * a, gint * fds, guint * n_fds)
{
  GstBuffer *buf = a->buf;
  guint i, n = gst_buffer_n_memory (buf), fd_index = 0;
  GByteArray *out = g_byte_array_sized_new (256);
  QsWireVideoMeta v;
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  guint32 *ids = g_newa (guint32, MAX (n, 1));
  GArray *fresh = g_array_new (FALSE, FALSE, sizeof (guint32));
  gsize at, inline_len = 0;
  gboolean cached = a->peer && a->peer->takes_cache;
  QsWireBuffer b = {
    .id = a->id,
    .pts = GST_BUFFER_PTS (buf),
    .dts = GST_BUFFER_DTS (buf),
    .duration = GST_BUFFER_DURATION (buf),
    .offset = GST_BUFFER_OFFSET (buf),
    .offset_end = GST_BUFFER_OFFSET_END (buf),
    .flags = GST_BUFFER_FLAGS (buf),
    .n_memories = n,
    .running_pts = qs_running_time (a->segment, GST_BUFFER_PTS (buf)),
    .running_dts = qs_running_time (a->segment, GST_BUFFER_DTS (buf)),
    .base_monotonic = a->base_monotonic,
  };

  *n_fds = 0;
  if (a->caps_item)
    g_byte_array_append (out, g_bytes_get_data (a->caps_item, NULL), g_bytes_get_size (a->caps_item));

  /* each fd memory names its fd: by its position among the message's fds, or (the receiver caches
   * fds, 1.2) by the id the receiver knows its file by; a cached fd goes along only the first time */
  for (i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    gboolean send = TRUE;
    if (!gst_is_fd_memory (mem)) {
      inline_len += mem->size;
      continue;
    }
    if (cached)
      ids[i] = qs_sink_cache_id (a->peer, gst_fd_memory_get_fd (mem), &send);
    if (send && *n_fds < QS_MAX_FDS) {
      fds[(*n_fds)++] = gst_fd_memory_get_fd (mem);
      if (cached)
        g_array_append_val (fresh, ids[i]);
    }
    if (!cached)
      ids[i] = fd_index++;
  }

  at = item_begin (out, QS_ITEM_BUFFER);
  g_byte_array_append (out, (const guint8 *) &b, sizeof b);
  for (i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    QsWireMemory m = { 0, QS_MEM_INLINE, 0, mem->size, mem->size };
    if (gst_is_fd_memory (mem)) {
      m.fd = ids[i];
      m.kind = gst_is_dmabuf_memory (mem) ? QS_MEM_DMABUF : QS_MEM_FD;
      m.offset = mem->offset;
      m.maxsize = mem->maxsize;
    }
    g_byte_array_append (out, (const guint8 *) &m, sizeof m);
  }
  item_end (out, at);

  if (qs_video_layout (inst, buf, FALSE, &v)) {
    at = item_begin (out, QS_ITEM_VIDEO_META);
    g_byte_array_append (out, (const guint8 *) &v, sizeof v);
    item_end (out, at);
  }
  while ((roi = (GstVideoRegionOfInterestMeta *) gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
    encode_roi (out, roi);

  if (inline_len) {
    /* the bytes of the memories that are not on fds, one after the other */
    at = item_begin (out, QS_ITEM_DATA);
    for (i = 0; i < n; i++) {
      GstMemory *mem = gst_buffer_peek_memory (buf, i);
      GstMapInfo map;
      if (gst_is_fd_memory (mem))
        continue;
      if (gst_memory_map (mem, &map, GST_MAP_READ)) {
        g_byte_array_append (out, map.data, map.size);
        gst_memory_unmap (mem, &map);
      } else {
        g_byte_array_set_size (out, out->len + mem->size);
        memset (out->data + out->len - mem->size, 0, mem->size);
      }
    }
    item_end (out, at);
  }
  if (fresh->len) {
    at = item_begin (out, QS_ITEM_FDS);
    g_byte_array_append (out, (const guint8 *) fresh->data, 4 * fresh->len);
    item_end (out, at);
  }
  if (cached && a->peer->forget && a->peer->forget->len) {
    at = item_begin (out, QS_ITEM_FORGET);
    g_byte_array_append (out, (const guint8 *) a->peer->forget->data, 4 * a->peer->forget->len);
    item_end (out, at);
  }
  g_array_unref (fresh);
  return g_byte_array_free_to_bytes (out);
}

/* ---- the vendor's wire (../shared/VENDOR-WIRE.md, lib/protocol/vendor.ts) --------------------------
 * As their sink sends a buffer for its caps: video, one fd memory with its layout (FRAME); tensors,
 * one fd memory per tensor (TENSOR, type and dimensions from the caps); text, at most 1024 bytes
 * inside the message (TEXT). A pooled buffer's fds cross once and are named by id (buf_id)
 * afterwards; a buffer with any new fd brings all of its fds (their receiver mis-maps fewer). What
 * their wire cannot carry goes to the element, which says so (qtisocketsink.ts vendorRender). */
#define QS_VENDOR_TEXT_MAX G_SIZEOF_MEMBER (QsVendorText, contents)

/* their ROI meta: a label, a box, the "ObjectDetection" and "xtraparams" parameters as strings */
static void
encode_vendor_roi (GByteArray * out, GstVideoRegionOfInterestMeta * roi)
{
  QsVendorRoiMeta r;
  const gchar *type = g_quark_to_string (roi->roi_type);
  GList *l;

  memset (&r, 0, sizeof r);
  r.identity = QS_VENDOR_ROI_META;
  memcpy (r.label, type, MIN (strlen (type), sizeof r.label - 1));
  r.id = roi->id;
  r.parent_id = roi->parent_id;
  r.x = roi->x;
  r.y = roi->y;
  r.w = roi->w;
  r.h = roi->h;
  for (l = roi->params; l; l = l->next) {
    gchar *s = gst_structure_to_string (l->data);
    gsize len = MIN (strlen (s), 255);
    if (!r.detection_length && g_str_has_prefix (s, "ObjectDetection")) {
      memcpy (r.detection, s, len);
      r.detection_length = len + 1;
    } else if (!r.extra_length && g_str_has_prefix (s, "xtraparams")) {
      memcpy (r.extra, s, len);
      r.extra_length = len + 1;
    }
    g_free (s);
  }
  g_byte_array_append (out, (const guint8 *) &r, sizeof r);
}

GBytes *
qs_encode_vendor_buffer (QsInstance * inst, QsPeer * peer, GstBuffer * buf, gint * fds, guint * n_fds,
    gint32 * buf_ids, guint * n_ids)
{
  guint i, n = gst_buffer_n_memory (buf), n_fd_mem = 0;
  gboolean pooled = buf->pool != NULL, fresh_any = FALSE;
  gboolean *fresh = g_newa (gboolean, MAX (n, 1));
  GByteArray *out;
  QsVendorBufferInfo info;
  QsWireVideoMeta layout;
  guint media = inst->vendor_media;

  *n_fds = 0;
  *n_ids = 0;
  if (n > QS_VENDOR_MAX_BLOCKS)
    return NULL;
  for (i = 0; i < n; i++)
    n_fd_mem += gst_is_fd_memory (gst_buffer_peek_memory (buf, i));
  /* what their wire cannot carry: the element says why */
  if (media == QS_VENDOR_MEDIA_TEXT ? n_fd_mem != 0 || gst_buffer_get_size (buf) > QS_VENDOR_TEXT_MAX :
      media == QS_VENDOR_MEDIA_VIDEO ? n != 1 || n_fd_mem != 1 :
      media == QS_VENDOR_MEDIA_TENSORS ? n != inst->vendor_tensors || n_fd_mem != n : TRUE)
    return NULL;
  /* their FRAME needs a layout: the video meta's, or the caps' */
  if (media == QS_VENDOR_MEDIA_VIDEO && !qs_video_layout (inst, buf, TRUE, &layout))
    return NULL;

  memset (&info, 0, sizeof info);
  info.identity = QS_VENDOR_BUFFER_INFO;
  info.pts = GST_BUFFER_PTS (buf);
  info.dts = GST_BUFFER_DTS (buf);
  info.duration = GST_BUFFER_DURATION (buf);
  info.use_buffer_pool = pooled;
  for (i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    fresh[i] = FALSE;
    if (!gst_is_fd_memory (mem)) {
      info.buf_id[i] = -1;
    } else if (pooled) {
      info.buf_id[i] = (gint32) qs_sink_cache_id (peer, gst_fd_memory_get_fd (mem), &fresh[i]);
    } else {
      info.buf_id[i] = gst_fd_memory_get_fd (mem);   /* not cached: it goes every time */
      fresh[i] = TRUE;
    }
    fresh_any |= fresh[i];
    buf_ids[i] = info.buf_id[i];
  }
  *n_ids = n;
  /* a buffer with a new fd brings all of its fds */
  for (i = 0; fresh_any && i < n; i++)
    if (gst_is_fd_memory (gst_buffer_peek_memory (buf, i)))
      fds[(*n_fds)++] = gst_fd_memory_get_fd (gst_buffer_peek_memory (buf, i));

  out = g_byte_array_sized_new (sizeof info + n * sizeof (QsVendorFrame) + 16);
  if (*n_fds) {
    QsVendorFdCount c = { QS_VENDOR_FD_COUNT, (gint32) * n_fds };
    g_byte_array_append (out, (const guint8 *) &c, sizeof c);
  }
  g_byte_array_append (out, (const guint8 *) &info, sizeof info);
  if (media == QS_VENDOR_MEDIA_TEXT) {
    QsVendorText t;
    gsize at = 0;
    memset (&t, 0, sizeof t);
    t.identity = QS_VENDOR_TEXT;
    for (i = 0; i < n; i++) {
      GstMemory *mem = gst_buffer_peek_memory (buf, i);
      GstMapInfo map;
      if (gst_memory_map (mem, &map, GST_MAP_READ)) {
        memcpy (t.contents + at, map.data, map.size);
        gst_memory_unmap (mem, &map);
      }
      at += mem->size;
    }
    t.size = t.maxsize = at;    /* not their maxsize: see VENDOR-WIRE.md section 4 */
    g_byte_array_append (out, (const guint8 *) &t, sizeof t);
  } else if (media == QS_VENDOR_MEDIA_VIDEO) {
    /* they map the fd from byte 0: the memory's offset goes into the plane offsets and the size */
    GstMemory *mem = gst_buffer_peek_memory (buf, 0);
    QsVendorFrame f;
    GstVideoRegionOfInterestMeta *roi;
    gpointer state = NULL;
    memset (&f, 0, sizeof f);
    f.identity = QS_VENDOR_FRAME;
    f.width = layout.width;
    f.height = layout.height;
    f.format = layout.format;
    f.n_planes = layout.n_planes;
    for (i = 0; i < layout.n_planes && i < 4; i++) {
      f.offsets[i] = layout.offsets[i] + mem->offset;
      f.strides[i] = layout.strides[i];
    }
    f.size = mem->offset + mem->size;
    f.maxsize = mem->maxsize;
    g_byte_array_append (out, (const guint8 *) &f, sizeof f);
    while ((roi = (GstVideoRegionOfInterestMeta *) gst_buffer_iterate_meta_filtered (buf, &state,
                GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
      encode_vendor_roi (out, roi);
  } else {
    const gint32 *dims = (const gint32 *) inst->vendor_dims->data;
    guint d = 0;
    for (i = 0; i < n; i++) {
      GstMemory *mem = gst_buffer_peek_memory (buf, i);
      QsVendorTensor t;
      guint j, nd = (guint) dims[d++];
      memset (&t, 0, sizeof t);
      t.identity = QS_VENDOR_TENSOR;
      t.type = inst->vendor_tensor_type;
      t.n_dimensions = nd;
      for (j = 0; j < nd; j++)
        t.dimensions[j] = (guint32) dims[d++];
      t.size = mem->offset + mem->size;
      t.maxsize = mem->maxsize;
      g_byte_array_append (out, (const guint8 *) &t, sizeof t);
    }
  }
  return g_byte_array_free_to_bytes (out);
}

/* ---- upstream GStreamer's unixfd wire (docs/unixfd-interop.md) --------------------------------- */

/* their timestamps are instants on CLOCK_MONOTONIC: running time + base + latency, as their sink
 * writes them (their receiver takes its base off again). Before the sink's running time is placed on
 * the clock (a preroll buffer, before PLAYING): now. */
static guint64
unixfd_instant (guint64 rt, guint64 base, GstClockTime latency)
{
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return GST_CLOCK_TIME_NONE;
  if (!GST_CLOCK_TIME_IS_VALID (base))
    return qs_monotonic_now ();
  return rt + base + (GST_CLOCK_TIME_IS_VALID (latency) ? latency : 0);
}

/* GstVideoMeta as gst_meta_serialize writes it (version 0: lib/protocol/unixfd.ts encodeVideoMeta) */
static void
append_unixfd_video_meta (GByteArray * out, GstVideoMeta * vm)
{
  static const gchar name[] = QS_UNIXFD_VIDEO_META;
  guint n = MIN (vm->n_planes, 4), i;
  QsUnixfdMeta h = { 0, sizeof name - 1 };
  QsUnixfdVideoMeta m = { (gint32) vm->flags, (gint32) vm->format, vm->width, vm->height, n };
  guint32 pad[4] = { vm->alignment.padding_top, vm->alignment.padding_bottom, vm->alignment.padding_left,
    vm->alignment.padding_right
  };
  guint8 version = 0;
  guint at = out->len;

  g_byte_array_append (out, (const guint8 *) &h, sizeof h);
  g_byte_array_append (out, (const guint8 *) name, sizeof name);        /* with its NUL */
  g_byte_array_append (out, &version, 1);
  g_byte_array_append (out, (const guint8 *) &m, sizeof m);
  for (i = 0; i < n; i++) {
    guint64 o = vm->offset[i];
    g_byte_array_append (out, (const guint8 *) &o, 8);
  }
  for (i = 0; i < n; i++)
    g_byte_array_append (out, (const guint8 *) &vm->stride[i], 4);
  g_byte_array_append (out, (const guint8 *) pad, sizeof pad);
  for (i = 0; i < n; i++)
    g_byte_array_append (out, (const guint8 *) &vm->alignment.stride_align[i], 4);
  h.total = out->len - at;
  memcpy (out->data + at, &h, sizeof h);
}

GBytes *
qs_encode_unixfd_buffer (QsInstance * inst, const QsEncodeArgs * a, GstClockTime latency, gint * fds, guint * n_fds)
{
  GstBuffer *buf = a->buf;
  guint i, n = gst_buffer_n_memory (buf), n_dmabuf = 0;
  GstVideoMeta *vm = gst_buffer_get_video_meta (buf);
  GByteArray *out;
  QsUnixfdNewBuffer nb = {
    .id = a->id,
    .pts = unixfd_instant (qs_running_time (a->segment, GST_BUFFER_PTS (buf)), a->base_monotonic, latency),
    .dts = unixfd_instant (qs_running_time (a->segment, GST_BUFFER_DTS (buf)), a->base_monotonic, latency),
    .duration = GST_BUFFER_DURATION (buf),
    .offset = GST_BUFFER_OFFSET (buf),
    .offset_end = GST_BUFFER_OFFSET_END (buf),
    .flags = GST_BUFFER_FLAGS (buf),
    .type = 0,
    .n_memory = n,
    .n_meta = vm ? 1 : 0,
  };

  *n_fds = 0;
  if (n > QS_MAX_FDS)
    return NULL;
  for (i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    if (!gst_is_fd_memory (mem))
      return NULL;
    n_dmabuf += gst_is_dmabuf_memory (mem);
  }
  /* all DMA-BUFs or none: their receiver wraps every memory of a buffer alike */
  if (n_dmabuf && n_dmabuf != n)
    return NULL;
  nb.type = n_dmabuf ? 1 : 0;
  out = g_byte_array_sized_new (sizeof nb + n * sizeof (QsUnixfdMemory) + 128);
  g_byte_array_append (out, (const guint8 *) &nb, sizeof nb);
  for (i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    gsize offset;
    QsUnixfdMemory m;
    m.size = gst_memory_get_sizes (mem, &offset, NULL);
    m.offset = offset;
    g_byte_array_append (out, (const guint8 *) &m, sizeof m);
    fds[(*n_fds)++] = gst_fd_memory_get_fd (mem);
  }
  if (nb.n_meta)
    append_unixfd_video_meta (out, vm);
  return g_byte_array_free_to_bytes (out);
}
