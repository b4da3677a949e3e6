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

#define QS_ITEM_BUFFER (QS_ITEM_BASE | 3)
#define QS_ITEM_VIDEO_META (QS_ITEM_BASE | 4)
#define QS_ITEM_ROI_META (QS_ITEM_BASE | 6)
#define QS_ITEM_DATA (QS_ITEM_BASE | 7)
#define QS_ITEM_FDS (QS_ITEM_BASE | 8)
#define QS_ITEM_FORGET (QS_ITEM_BASE | 9)

static const guint8 zeros[4];

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
  g_byte_array_append (out, zeros, (4 - length % 4) % 4);
}

static void
append_padded (GByteArray * out, const gchar * s, gsize len)
{
  g_byte_array_append (out, (const guint8 *) s, len);
  g_byte_array_append (out, zeros, (4 - len % 4) % 4);
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

static guint64
running_time (const GstSegment * seg, GstClockTime ts)
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
  GstVideoMeta *vmeta = gst_buffer_get_video_meta (buf);
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  guint32 *ids = g_newa (guint32, MAX (n, 1));
  GArray *fresh = g_array_new (FALSE, FALSE, sizeof (guint32));
  gsize at, inline_len = 0;
  QsWireBuffer b = {
    .id = a->id,
    .pts = GST_BUFFER_PTS (buf),
    .dts = GST_BUFFER_DTS (buf),
    .duration = GST_BUFFER_DURATION (buf),
    .offset = GST_BUFFER_OFFSET (buf),
    .offset_end = GST_BUFFER_OFFSET_END (buf),
    .flags = GST_BUFFER_FLAGS (buf),
    .n_memories = n,
    .running_pts = running_time (a->segment, GST_BUFFER_PTS (buf)),
    .running_dts = running_time (a->segment, GST_BUFFER_DTS (buf)),
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
    if (a->cached)
      ids[i] = qs_sink_cache_id (inst, gst_fd_memory_get_fd (mem), &send);
    if (send && *n_fds < QS_MAX_FDS) {
      fds[(*n_fds)++] = gst_fd_memory_get_fd (mem);
      if (a->cached)
        g_array_append_val (fresh, ids[i]);
    }
    if (!a->cached)
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

  if (vmeta) {
    QsWireVideoMeta v = { vmeta->format, vmeta->width, vmeta->height, vmeta->n_planes, vmeta->flags, 0 };
    for (i = 0; i < vmeta->n_planes && i < 4; i++) {
      v.offsets[i] = vmeta->offset[i];
      v.strides[i] = vmeta->stride[i];
    }
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
  if (a->cached && a->forget && a->forget->len) {
    at = item_begin (out, QS_ITEM_FORGET);
    g_byte_array_append (out, (const guint8 *) a->forget->data, 4 * a->forget->len);
    item_end (out, at);
  }
  g_array_unref (fresh);
  return g_byte_array_free_to_bytes (out);
}
