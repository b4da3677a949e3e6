/* The receiver's data plane for our wire (docs/protocol.md): a buffer message decoded natively,
 * every buffer, with no call into TypeScript, into the description the builder takes (the
 * BufferDesc of lib/protocol/desc.ts; the builder then checks every memory against its fd).
 *
 * It accepts exactly what TypeScript's decoder (lib/protocol/wire.ts decodeMessage, then the
 * element's buffer()) accepts, and gives the same description; whatever it does not take (a
 * greeting, end-of-stream, new caps, anything malformed or odd) goes to TypeScript, which says what
 * it is or what is wrong with it: warnings are worded in one place. QTISOCKET_MEMO_CHECK=1 (the
 * fuzzers) asks TypeScript about every message decoded here too, and fails on any difference. */
#include "qtisocket.h"
#include "layout.h"
#include "wire.h"

#include <string.h>


#define MAX_MEMORIES QS_LIMIT_MEMORIES
#define MAX_ROIS QS_LIMIT_ROIS
#define MAX_ROI_PARAMS QS_LIMIT_ROI_PARAMS
#define MAX_INLINE QS_LIMIT_DATA

typedef struct {
  const guint8 *caps;           /* CAPS body */
  gsize caps_len;
  const guint8 *buffer;         /* BUFFER body */
  gsize buffer_len;
  const guint8 *vmeta;
  gsize vmeta_len;
  const guint8 *rois[MAX_ROIS];
  gsize roi_len[MAX_ROIS];
  guint n_rois;
  const guint8 *fds;
  gsize fds_len;
  const guint8 *forget;
  gsize forget_len;
  const guint8 *data;
  gsize data_len;
  guint n_items, n_buffer, n_vmeta, n_fds_items, n_forget_items, n_data;
  gboolean declined;            /* something TypeScript must see */
} Items;

static gboolean
collect (guint32 id, const guint8 * body, gsize len, gpointer user_data)
{
  Items *it = user_data;
  if (it->n_items++ == 0 && (id == QS_ITEM_HELLO || id == QS_VENDOR_EOS || id == QS_ITEM_RELEASE)) {
    it->declined = TRUE;        /* a greeting, end-of-stream, a release: not a buffer */
    return FALSE;
  }
  switch (id) {
    case QS_ITEM_CAPS:
      it->caps = body;
      it->caps_len = len;
      break;
    case QS_ITEM_BUFFER:
      it->buffer = body;
      it->buffer_len = len;
      it->n_buffer++;
      break;
    case QS_ITEM_VIDEO_META:
      it->vmeta = body;
      it->vmeta_len = len;
      it->n_vmeta++;
      break;
    case QS_ITEM_ROI_META:
      if (it->n_rois == MAX_ROIS)
        return FALSE;
      it->rois[it->n_rois] = body;
      it->roi_len[it->n_rois++] = len;
      break;
    case QS_ITEM_FDS:
      it->fds = body;
      it->fds_len = len;
      it->n_fds_items++;
      break;
    case QS_ITEM_FORGET:
      it->forget = body;
      it->forget_len = len;
      it->n_forget_items++;
      break;
    case QS_ITEM_DATA:
      it->data = body;
      it->data_len = len;
      it->n_data++;
      break;
    default:
      break;                    /* items of later minor versions, the vendor's metas: not read */
  }
  return TRUE;
}

/* GStreamer's parser takes this one-structure string without complaint (lib/protocol/wire.ts
 * structureProblem, no stricter than it: a string it takes may be sent to TypeScript, never the
 * other way round) */
static gboolean
structure_ok (const gchar * s, gsize len)
{
  gsize i = 0, end;
  gboolean quoted = FALSE;

  while (i < len && g_ascii_isspace (s[i]))
    i++;
  if (i >= len || !g_ascii_isalpha (s[i]))
    return FALSE;
  for (end = i; end < len && s[end] != ',' && s[end] != ';' && s[end] != '(' && !g_ascii_isspace (s[end]); end++)
    if (!g_ascii_isalnum (s[end]) && !strchr ("/-_.:+", s[end]))
      return FALSE;
  for (i = 0; i < len; i++) {
    if (s[i] == '\\') {
      i++;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == ';' && !quoted) {
      gsize j;
      for (j = i + 1; j < len; j++)
        if (!g_ascii_isspace (s[j]))
          return FALSE;
    }
  }
  return TRUE;
}

/* UTF-8 as TypeScript's decoder takes it and gives it back the same: valid, no NUL, no leading BOM
 * (which its decoder drops) */
static gboolean
text_ok (const guint8 * s, gsize len)
{
  return g_utf8_validate ((const gchar *) s, len, NULL) && !(len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf);
}

/* One ROI_META body, checked as lib/protocol/wire.ts parseRoi does, re-encoded into out (its
 * description record: u32 length, then the record with zero padding) */
static gboolean
append_roi (GByteArray * out, const guint8 * body, gsize len)
{
  QsWireRoi r;
  gsize p, at = out->len;
  guint32 i, record_len;

  if (len < sizeof r)
    return FALSE;
  memcpy (&r, body, sizeof r);
  p = sizeof r;
  if (r.n_params > MAX_ROI_PARAMS || r.type_length > len - p ||
      !text_ok (body + p, r.type_length))
    return FALSE;
  g_byte_array_set_size (out, out->len + 4);
  g_byte_array_append (out, (const guint8 *) &r, sizeof r);
  g_byte_array_append (out, body + p, r.type_length);
  qs_append_padding (out, r.type_length);
  p += qs_pad4 (r.type_length);
  for (i = 0; i < r.n_params; i++) {
    guint32 n;
    if (p + 4 > len)
      return FALSE;
    memcpy (&n, body + p, 4);
    if (n > len - p - 4 || !text_ok (body + p + 4, n) ||
        !structure_ok ((const gchar *) body + p + 4, n))
      return FALSE;
    g_byte_array_append (out, body + p, 4 + n);
    qs_append_padding (out, n);
    p += 4 + qs_pad4 (n);
  }
  if (p != len)                 /* the record must fill the item exactly */
    return FALSE;
  record_len = out->len - at;
  memcpy (out->data + at, &record_len, 4);
  return TRUE;
}


GBytes *
qs_decode_buffer (const guint8 * payload, gsize len, guint n_fds, gboolean cached, const guint8 * caps,
    gsize caps_len, gboolean * caps_changed)
{
  Items it = { 0 };
  QsWireBuffer b;
  GByteArray *out;
  guint32 i, n_mem, n_fds_named = 0, n_forget = 0;
  guint64 inline_bytes = 0;

  *caps_changed = FALSE;
  if (!qs_items_foreach (payload, len, collect, &it) || it.declined || it.n_items == 0)
    return NULL;
  /* what the TypeScript decoder reads otherwise than "the one of each" goes to it */
  if (it.n_buffer != 1 || it.n_vmeta > 1 || it.n_fds_items > 1 || it.n_forget_items > 1 || it.n_data > 1)
    return NULL;
  if (it.caps && (!caps || it.caps_len != caps_len || memcmp (it.caps, caps, caps_len) != 0)) {
    *caps_changed = TRUE;       /* TypeScript checks new caps and takes them */
    return NULL;
  }
  if (!caps)
    return NULL;                /* no caps yet: TypeScript drops the buffer, saying so */

  if (it.buffer_len < sizeof b)
    return NULL;
  memcpy (&b, it.buffer, sizeof b);
  n_mem = b.n_memories;
  if (n_mem > MAX_MEMORIES || it.buffer_len < sizeof b + (gsize) n_mem * sizeof (QsWireMemory))
    return NULL;
  if (it.vmeta) {
    QsWireVideoMeta v;
    if (it.vmeta_len < sizeof v)
      return NULL;
    memcpy (&v, it.vmeta, sizeof v);
    if (v.n_planes < 1 || v.n_planes > 4)
      return NULL;
  }
  if (it.fds && (it.fds_len % 4 || it.fds_len / 4 > QS_MAX_FDS))
    return NULL;
  if (it.forget && (it.forget_len % 4 || it.forget_len / 4 > QS_MAX_CACHED))
    return NULL;
  if (it.data && it.data_len > MAX_INLINE)
    return NULL;
  if (cached) {
    n_fds_named = it.fds ? it.fds_len / 4 : 0;
    n_forget = it.forget ? it.forget_len / 4 : 0;
    if (n_fds_named != n_fds)
      return NULL;              /* TypeScript says the FDS item does not match the fds */
  }

  {
    QsDesc h = { .id = b.id, .pts = b.pts, .dts = b.dts, .duration = b.duration, .offset = b.offset,
      .offset_end = b.offset_end, .flags = b.flags, .n_memories = n_mem, .has_video_meta = it.vmeta != NULL,
      .n_fds = n_fds, .running_pts = b.running_pts, .running_dts = b.running_dts,
      .base_monotonic = b.base_monotonic, .n_rois = it.n_rois, .fd_naming = cached ? 1 : 0,
      .n_forget = n_forget };
    out = g_byte_array_sized_new (QS_DESC_HEADER + n_mem * QS_DESC_MEM + 256);
    g_byte_array_append (out, (const guint8 *) &h, sizeof h);
  }
  for (i = 0; i < n_mem; i++) {
    QsWireMemory m;
    memcpy (&m, it.buffer + sizeof b + i * sizeof m, sizeof m);
    if (m.kind != QS_MEM_FD && m.kind != QS_MEM_DMABUF && m.kind != QS_MEM_INLINE)
      goto declined;
    if (m.kind == QS_MEM_INLINE) {
      if (m.offset != 0 || m.maxsize != m.size)
        goto declined;
      inline_bytes += m.size;
    }
    g_byte_array_append (out, (const guint8 *) &m, sizeof m);
  }
  if (inline_bytes != (it.data ? it.data_len : 0))
    goto declined;
  ((QsDesc *) out->data)->inline_length = (guint32) inline_bytes;
  if (it.vmeta) {
    QsWireVideoMeta v;
    memcpy (&v, it.vmeta, sizeof v);
    v.reserved = 0;             /* not carried over */
    g_byte_array_append (out, (const guint8 *) &v, sizeof v);
  }
  for (i = 0; i < it.n_rois; i++)
    if (!append_roi (out, it.rois[i], it.roi_len[i]))
      goto declined;
  if (it.data) {
    g_byte_array_append (out, it.data, it.data_len);
    qs_append_padding (out, it.data_len);
  }
  if (cached) {
    if (n_fds_named)
      g_byte_array_append (out, it.fds, 4 * n_fds_named);
    if (n_forget)
      g_byte_array_append (out, it.forget, 4 * n_forget);
  }
  return g_byte_array_free_to_bytes (out);

declined:
  g_byte_array_unref (out);
  return NULL;
}

gboolean
qs_message_caps (const guint8 * payload, gsize len, const guint8 ** caps, gsize * caps_len)
{
  Items it = { 0 };
  if (!qs_items_foreach (payload, len, collect, &it) || !it.caps)
    return FALSE;
  *caps = it.caps;
  *caps_len = it.caps_len;
  return TRUE;
}

/* ---- the vendor's wire (../shared/VENDOR-WIRE.md, lib/protocol/vendor.ts decodeVendor, then
 * qtisocketsrc.ts vendorMessage) ----------------------------------------------------------------- */
#define QS_VENDOR_TEXT_MAX G_SIZEOF_MEMBER (QsVendorText, contents)

/* a NUL-terminated field of theirs as the element reads it (latin1) and writes it back (UTF-8) */
static void
append_latin1 (GByteArray * out, const guint8 * field, gsize size)
{
  gsize i;
  for (i = 0; i < size && field[i]; i++) {
    if (field[i] < 0x80) {
      g_byte_array_append (out, &field[i], 1);
    } else {
      guint8 two[2] = { 0xc0 | (field[i] >> 6), 0x80 | (field[i] & 0x3f) };
      g_byte_array_append (out, two, 2);
    }
  }
}

static gsize
latin1_len (const guint8 * field, gsize size)
{
  gsize i;
  for (i = 0; i < size && field[i]; i++);
  return i;
}

/* their ROI meta as a description record: the label as the type, the parameters that parse (FALSE,
 * for the element to decide, if a parameter has a byte beyond ASCII: which whitespace it is, the
 * element knows) */
static gboolean
append_vendor_roi (GByteArray * out, const QsVendorRoiMeta * v)
{
  QsWireRoi r = { v->id, v->parent_id, v->x, v->y, v->w, v->h, 0, 0 };
  gsize at = out->len, type_at, fixed_at;
  guint32 record_len;
  const guint8 *params[2] = { v->detection_length ? v->detection : NULL, v->extra_length ? v->extra : NULL };
  guint i;

  g_byte_array_set_size (out, out->len + 4);
  fixed_at = out->len;
  g_byte_array_append (out, (const guint8 *) &r, sizeof r);
  type_at = out->len;
  append_latin1 (out, v->label, sizeof v->label);
  r.type_length = out->len - type_at;
  qs_append_padding (out, r.type_length);
  for (i = 0; i < 2; i++) {
    gsize n = params[i] ? latin1_len (params[i], 256) : 0, len_at, j;
    guint32 len;
    for (j = 0; j < n; j++)
      if (params[i][j] >= 0x80)
        return FALSE;
    if (!params[i] || !structure_ok ((const gchar *) params[i], n))
      continue;                 /* a parameter that does not parse is dropped */
    len_at = out->len;
    g_byte_array_set_size (out, out->len + 4);
    append_latin1 (out, params[i], 256);
    len = out->len - len_at - 4;
    memcpy (out->data + len_at, &len, 4);
    qs_append_padding (out, len);
    r.n_params++;
  }
  memcpy (out->data + fixed_at, &r, sizeof r);
  record_len = out->len - at;
  memcpy (out->data + at, &record_len, 4);
  return TRUE;
}

GBytes *
qs_decode_vendor_buffer (const guint8 * payload, gsize len, guint n_fds)
{
  QsVendorBufferInfo info = { 0 };
  const guint8 *blocks[QS_VENDOR_MAX_BLOCKS + 1], *rois[MAX_ROIS];
  guint32 kinds[QS_VENDOR_MAX_BLOCKS + 1];
  guint n_blocks = 0, n_rois = 0, n_info = 0, n_fd_count = 0, i, fd_blocks = 0;
  gint32 fd_count = -1;
  gsize at = 0, inline_len = 0;
  GByteArray *out;
  gboolean has_vmeta;

  while (at + 4 <= len) {
    guint32 id;
    gssize size;
    memcpy (&id, payload + at, 4);
    size = qs_vendor_item_size (id);
    if (size < 0)
      break;                    /* as their parser: the rest of the record is not read */
    if ((gsize) size > len - at)
      return NULL;
    switch (id) {
      case QS_VENDOR_BUFFER_INFO:
        memcpy (&info, payload + at, sizeof info);
        n_info++;
        break;
      case QS_VENDOR_FRAME:
      case QS_VENDOR_TENSOR:
      case QS_VENDOR_TEXT:
        if (n_blocks > QS_VENDOR_MAX_BLOCKS)
          return NULL;
        kinds[n_blocks] = id;
        blocks[n_blocks++] = payload + at;
        break;
      case QS_VENDOR_FD_COUNT:
        memcpy (&fd_count, payload + at + G_STRUCT_OFFSET (QsVendorFdCount, n_fds), 4);
        n_fd_count++;
        break;
      case QS_VENDOR_ROI_META:
        if (n_rois == MAX_ROIS)
          return NULL;
        rois[n_rois++] = payload + at;
        break;
      case QS_VENDOR_EOS:
      case QS_VENDOR_DISCONNECT:
      case QS_VENDOR_RETURN_BUFFER:
        return NULL;            /* not a buffer: the element says what it is */
      default:
        break;                  /* protection, classification and landmarks metas: not read */
    }
    at += size;
  }
  if (n_info != 1 || n_fd_count > 1 || n_blocks == 0 || n_blocks > QS_VENDOR_MAX_BLOCKS ||
      (n_fd_count && (fd_count < 0 || fd_count > QS_VENDOR_MAX_BLOCKS)))
    return NULL;
  for (i = 0; i < n_blocks; i++) {
    if (kinds[i] == QS_VENDOR_FRAME) {
      QsVendorFrame f;
      memcpy (&f, blocks[i], sizeof f);
      if (f.n_planes < 1 || f.n_planes > 4)
        return NULL;
      fd_blocks++;
    } else if (kinds[i] == QS_VENDOR_TENSOR) {
      QsVendorTensor t;
      memcpy (&t, blocks[i], sizeof t);
      if (t.n_dimensions > 8)
        return NULL;
      fd_blocks++;
    } else {
      QsVendorText t;
      memcpy (&t.size, blocks[i] + G_STRUCT_OFFSET (QsVendorText, size), 8);
      if (t.size > QS_VENDOR_TEXT_MAX)
        return NULL;
      inline_len += t.size;
    }
  }
  /* not pooled: the i-th fd block has the i-th fd */
  if (!info.use_buffer_pool && n_fds != fd_blocks)
    return NULL;

  has_vmeta = n_blocks == 1 && kinds[0] == QS_VENDOR_FRAME;
  {
    /* their pts has no base: the buffer is stamped on arrival */
    QsDesc h = { .id = 0, .pts = info.pts, .dts = info.dts, .duration = info.duration,
      .offset = GST_BUFFER_OFFSET_NONE, .offset_end = GST_BUFFER_OFFSET_NONE, .flags = 0,
      .n_memories = n_blocks, .has_video_meta = has_vmeta, .n_fds = n_fds, .running_pts = info.pts,
      .running_dts = GST_CLOCK_TIME_NONE, .base_monotonic = GST_CLOCK_TIME_NONE, .n_rois = n_rois,
      .inline_length = inline_len, .fd_naming = info.use_buffer_pool ? 2 : 3, .n_forget = 0 };
    out = g_byte_array_sized_new (QS_DESC_HEADER + n_blocks * QS_DESC_MEM + 128);
    g_byte_array_append (out, (const guint8 *) &h, sizeof h);
  }
  for (i = 0; i < n_blocks; i++) {
    QsWireMemory m = { (guint32) info.buf_id[i], QS_MEM_FD, 0, 0, 0 };
    if (kinds[i] == QS_VENDOR_FRAME) {
      memcpy (&m.size, blocks[i] + G_STRUCT_OFFSET (QsVendorFrame, size), 8);
      memcpy (&m.maxsize, blocks[i] + G_STRUCT_OFFSET (QsVendorFrame, maxsize), 8);
    } else if (kinds[i] == QS_VENDOR_TENSOR) {
      memcpy (&m.size, blocks[i] + G_STRUCT_OFFSET (QsVendorTensor, size), 8);
      memcpy (&m.maxsize, blocks[i] + G_STRUCT_OFFSET (QsVendorTensor, maxsize), 8);
    } else {
      m.fd = 0;
      m.kind = QS_MEM_INLINE;
      memcpy (&m.size, blocks[i] + G_STRUCT_OFFSET (QsVendorText, size), 8);
      m.maxsize = m.size;
    }
    g_byte_array_append (out, (const guint8 *) &m, sizeof m);
  }
  if (has_vmeta) {
    QsVendorFrame f;
    QsWireVideoMeta v = { 0 };
    memcpy (&f, blocks[0], sizeof f);
    v.format = f.format;
    v.width = f.width;
    v.height = f.height;
    v.n_planes = f.n_planes;
    for (i = 0; i < f.n_planes; i++) {
      v.offsets[i] = f.offsets[i];
      v.strides[i] = f.strides[i];
    }
    g_byte_array_append (out, (const guint8 *) &v, sizeof v);
  }
  for (i = 0; i < n_rois; i++) {
    QsVendorRoiMeta r;
    memcpy (&r, rois[i], sizeof r);
    if (!append_vendor_roi (out, &r)) {
      g_byte_array_unref (out);
      return NULL;
    }
  }
  for (i = 0; i < n_blocks; i++) {
    guint64 n;
    if (kinds[i] != QS_VENDOR_TEXT)
      continue;
    memcpy (&n, blocks[i] + G_STRUCT_OFFSET (QsVendorText, size), 8);
    g_byte_array_append (out, blocks[i] + G_STRUCT_OFFSET (QsVendorText, contents), n);
  }
  qs_append_padding (out, inline_len);
  return g_byte_array_free_to_bytes (out);
}

/* ---- upstream GStreamer's unixfd wire (lib/protocol/unixfd.ts is the reference) ---------------- */

/* GstVideoMeta's body, version 0, into our record: FALSE if malformed */
static gboolean
unixfd_video_meta (const guint8 * body, gsize len, QsWireVideoMeta * v)
{
  QsUnixfdVideoMeta m;
  guint32 i, n;
  if (len < sizeof m)
    return FALSE;
  memcpy (&m, body, sizeof m);
  n = m.n_planes;
  if (n < 1 || n > 4 || len < sizeof m + 16 * (gsize) n + 16)
    return FALSE;
  memset (v, 0, sizeof *v);
  v->flags = (guint32) m.flags;
  v->format = (guint32) m.format;
  v->width = m.width;
  v->height = m.height;
  v->n_planes = n;
  for (i = 0; i < n; i++) {
    memcpy (&v->offsets[i], body + sizeof m + 8 * i, 8);
    memcpy (&v->strides[i], body + sizeof m + 8 * n + 4 * i, 4);
  }
  return TRUE;
}

GBytes *
qs_decode_unixfd_buffer (const guint8 * msg, gsize len, guint n_fds)
{
  QsUnixfdCommand c;
  QsUnixfdNewBuffer nb;
  QsWireVideoMeta vmeta;
  gboolean has_vmeta = FALSE;
  const guint8 *p;
  gsize size, at;
  GByteArray *out;
  guint32 i, k;

  if (len < sizeof c)
    return NULL;
  memcpy (&c, msg, sizeof c);
  p = msg + sizeof c;
  size = len - sizeof c;
  if (c.type != QS_UNIXFD_NEW_BUFFER || c.size != size || size < sizeof nb)
    return NULL;                /* not a buffer, or malformed: the element says what it is */
  memcpy (&nb, p, sizeof nb);
  if (nb.type > 1 || nb.n_memory > QS_LIMIT_MEMORIES || size < sizeof nb + (gsize) nb.n_memory * sizeof (QsUnixfdMemory)
      || n_fds != nb.n_memory)
    return NULL;
  at = sizeof nb + (gsize) nb.n_memory * sizeof (QsUnixfdMemory);
  for (k = 0; k < nb.n_meta; k++) {
    QsUnixfdMeta m;
    guint8 version;
    const gchar *name;
    if (size - at < sizeof m)
      return NULL;
    memcpy (&m, p + at, sizeof m);
    if (m.total > size - at || (guint64) m.name_length + sizeof m + 2 > m.total)
      return NULL;
    name = (const gchar *) p + at + sizeof m;
    if (name[m.name_length] != '\0')
      return NULL;
    version = p[at + sizeof m + m.name_length + 1];
    if (!has_vmeta && version == 0 && m.name_length == strlen (QS_UNIXFD_VIDEO_META) &&
        memcmp (name, QS_UNIXFD_VIDEO_META, m.name_length) == 0) {
      gsize body = at + sizeof m + m.name_length + 2;
      if (!unixfd_video_meta (p + body, at + m.total - body, &vmeta))
        return NULL;
      has_vmeta = TRUE;
    }
    at += m.total;
  }
  {
    /* their timestamps are instants on CLOCK_MONOTONIC: running times from a base of 0 */
    QsDesc h = { .id = nb.id, .pts = nb.pts, .dts = nb.dts, .duration = nb.duration, .offset = nb.offset,
      .offset_end = nb.offset_end, .flags = nb.flags, .n_memories = nb.n_memory, .has_video_meta = has_vmeta,
      .n_fds = n_fds, .running_pts = nb.pts, .running_dts = nb.dts, .base_monotonic = 0, .n_rois = 0,
      .inline_length = 0, .fd_naming = 0, .n_forget = 0 };
    out = g_byte_array_sized_new (QS_DESC_HEADER + nb.n_memory * QS_DESC_MEM + QS_DESC_VMETA);
    g_byte_array_append (out, (const guint8 *) &h, sizeof h);
  }
  for (i = 0; i < nb.n_memory; i++) {
    QsUnixfdMemory um;
    QsWireMemory m = { i, nb.type == 1 ? QS_MEM_DMABUF : QS_MEM_FD, 0, 0, 0 };
    memcpy (&um, p + sizeof nb + i * sizeof um, sizeof um);
    if (um.offset > G_MAXUINT64 - um.size) {
      g_byte_array_unref (out);
      return NULL;
    }
    m.offset = um.offset;
    m.size = um.size;
    m.maxsize = um.offset + um.size;
    g_byte_array_append (out, (const guint8 *) &m, sizeof m);
  }
  if (has_vmeta)
    g_byte_array_append (out, (const guint8 *) &vmeta, sizeof vmeta);
  return g_byte_array_free_to_bytes (out);
}
