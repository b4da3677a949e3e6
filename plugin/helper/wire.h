/* The few wire facts the native side needs: framing lives in channel.c, the release message is built
 * and parsed here because it is the one message that must not cost a JS call. Everything else about
 * the wire is TypeScript (lib/protocol/wire.ts, docs/protocol.md); keep the two in step. */
#pragma once
#include <glib.h>
#include <string.h>

#include "layout.h"

/* our items: identity 0x5154xxxx ("QT"), then u32 body length, body padded to 4 bytes.
 * vendor items (identities 0..11) have fixed sizes and no length field. Identities and sizes come
 * from layout.h (lib/protocol/layout.ts). */
#define QS_ITEM_IS_OURS(id) (((id) & 0xffff0000u) == QS_ITEM_BASE)

/* n rounded up to a multiple of 4 (item bodies and strings are padded to 4 bytes), for any u32 n */
static inline guint64
qs_pad4 (guint64 n)
{
  return (n + 3) / 4 * 4;
}

/* appends the zero bytes that pad n bytes to a multiple of 4 */
static inline void
qs_append_padding (GByteArray * out, gsize n)
{
  static const guint8 zeros[4];
  g_byte_array_append (out, zeros, qs_pad4 (n) - n);
}

static inline gssize
qs_vendor_item_size (guint32 id)
{
  return id < G_N_ELEMENTS (qs_vendor_sizes) ? qs_vendor_sizes[id] : -1;
}

/* walks the items of a payload: returns FALSE when the payload is malformed */
typedef gboolean (*QsItemFunc) (guint32 id, const guint8 * body, gsize len, gpointer user_data);
static inline gboolean
qs_items_foreach (const guint8 * p, gsize len, QsItemFunc func, gpointer user_data)
{
  gsize off = 0;
  while (off + 4 <= len) {
    guint32 id, blen;
    memcpy (&id, p + off, 4);
    if (QS_ITEM_IS_OURS (id)) {
      if (off + 8 > len)
        return FALSE;
      memcpy (&blen, p + off + 4, 4);
      /* the body and its padding must be there */
      if (qs_pad4 (blen) > len - off - 8)
        return FALSE;
      if (!func (id, p + off + 8, blen, user_data))
        return FALSE;
      off += 8 + qs_pad4 (blen);
    } else {
      gssize size = qs_vendor_item_size (id);
      if (size < 0 || (gsize) size > len - off)
        return FALSE;
      if (!func (id, p + off + 4, size - 4, user_data))
        return FALSE;
      off += size;
    }
  }
  return off >= len;
}
