/* The per-buffer fast path: a memo of the TypeScript element's answer for one kind of buffer.
 *
 * The element's answer (sink: the message for a buffer description; src: the buffer description for
 * a message) depends on a few fields of its input (timestamps, ids, memory offsets and sizes) in a
 * simple way: they are copied to fixed places of the output. When the element says so, it returns
 * those copies as patches with its answer: (output offset, input offset, length) triples; an output
 * offset of QS_MEMO_IGNORE marks input bytes that vary and do not matter (garbage in unused array
 * entries of the vendor's structs). The helper
 * keeps the input and the answer. A later input of the same length whose other bytes are all equal
 * gets the same answer with the patches applied, without a call into JavaScript. Everything that
 * changes the element's answer in another way (caps, a new connection, a change of shape) makes the
 * input differ, or clears the memo, and the next buffer goes to JavaScript again. */
#include "qtisocket.h"

#include <string.h>

void
qs_memo_clear (QsMemo * memo)
{
  g_clear_pointer (&memo->in, g_free);
  g_clear_pointer (&memo->out, g_bytes_unref);
  g_clear_pointer (&memo->patches, g_free);
  g_clear_pointer (&memo->fixed, g_free);
  g_clear_pointer (&memo->fds, g_array_unref);
  memo->in_len = 0;
  memo->n_patches = memo->n_fixed = 0;
  memo->n_fds = 0;
}

static gint
by_start (gconstpointer a, gconstpointer b)
{
  const guint32 *x = a, *y = b;
  return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Keeps in -> out with its patches (triples of u32); FALSE (and an empty memo) if a patch does not
 * fit the input or the output. fds: the sink's memory indices, kept with the answer. */
gboolean
qs_memo_set (QsMemo * memo, const guint8 * in, gsize in_len, GBytes * out, const GArray * patches,
    const GArray * fds, guint n_fds)
{
  gsize out_len = g_bytes_get_size (out), at = 0;
  guint i, n;
  guint32 *p;

  qs_memo_clear (memo);
  if (!patches || patches->len % 3 != 0 || patches->len == 0)
    return FALSE;
  n = patches->len / 3;
  p = g_new (guint32, patches->len);
  for (i = 0; i < patches->len; i++)
    p[i] = (guint32) g_array_index (patches, gint, i);
  for (i = 0; i < n; i++) {
    guint32 to = p[3 * i], from = p[3 * i + 1], len = p[3 * i + 2];
    if ((to != QS_MEMO_IGNORE && (to > out_len || len > out_len - to)) || from > in_len ||
        len > in_len - from) {
      g_free (p);
      return FALSE;
    }
  }
  /* the input's fixed ranges: the gaps between the (sorted) patch sources */
  qsort (p, n, 3 * sizeof (guint32), by_start);
  memo->fixed = g_new (guint32, 2 * (n + 1));
  for (i = 0; i < n; i++) {
    if (p[3 * i + 1] > at) {
      memo->fixed[2 * memo->n_fixed] = at;
      memo->fixed[2 * memo->n_fixed + 1] = p[3 * i + 1] - at;
      memo->n_fixed++;
    }
    at = MAX (at, (gsize) p[3 * i + 1] + p[3 * i + 2]);
  }
  if (at < in_len) {
    memo->fixed[2 * memo->n_fixed] = at;
    memo->fixed[2 * memo->n_fixed + 1] = in_len - at;
    memo->n_fixed++;
  }
  memo->patches = p;
  memo->n_patches = n;
  memo->in = g_memdup2 (in, in_len);
  memo->in_len = in_len;
  memo->out = g_bytes_ref (out);
  memo->fds = fds ? g_array_copy ((GArray *) fds) : NULL;
  memo->n_fds = n_fds;
  return TRUE;
}

/* The memoised answer for this input, or NULL if the memo does not apply to it. */
GBytes *
qs_memo_apply (QsMemo * memo, const guint8 * in, gsize in_len, guint n_fds)
{
  guint8 *out;
  gsize out_len;
  guint i;

  if (!memo->in || in_len != memo->in_len || n_fds != memo->n_fds)
    return NULL;
  for (i = 0; i < memo->n_fixed; i++) {
    guint32 at = memo->fixed[2 * i], len = memo->fixed[2 * i + 1];
    if (memcmp (in + at, memo->in + at, len) != 0)
      return NULL;
  }
  out = g_memdup2 (g_bytes_get_data (memo->out, &out_len), g_bytes_get_size (memo->out));
  out_len = g_bytes_get_size (memo->out);
  for (i = 0; i < memo->n_patches; i++)
    if (memo->patches[3 * i] != QS_MEMO_IGNORE)
      memcpy (out + memo->patches[3 * i], in + memo->patches[3 * i + 1], memo->patches[3 * i + 2]);
  return g_bytes_new_take (out, out_len);
}
