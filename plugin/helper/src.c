/* qtisocketsrc's native half: trampolines for the GstPushSrc vfuncs, accepting a sender, receiving
 * messages with their fds (interruptibly), wrapping the fds as read-only fd/DMA-BUF memory without
 * copying, and sending the release back when the last of those memories is freed downstream. The
 * TypeScript element parses and validates every message (lib/elements/qtisocketsrc.ts). */
#include "qtisocket.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define GST_CAT_DEFAULT qs_src_debug

static GQuark release_quark;

static gpointer acceptor_main (gpointer data);

/* one per received buffer, shared by its memories: the release goes out when the last one is freed */
typedef struct {
  gint refcount;
  QsConn *conn;
  guint64 id;
  gboolean silent;              /* no fd memory came with it: the sender holds nothing */
  /* a sender of the vendor's wire: RETURN_BUFFER names the buf_ids of the buffer's memory blocks */
  gboolean vendor;
  guint n_ids;
  gint32 ids[QS_VENDOR_MAX_BLOCKS];
} Release;

/* The buffer goes back to its sender: RELEASE(id) on our wire; on the vendor's, FD_COUNT and
 * RETURN_BUFFER with the buf_ids of its blocks; on upstream's unixfd wire, RELEASE_BUFFER(id) */
static void
send_release (QsConn * conn, const Release * rel)
{
  guint8 msg[52] = { 0 };
  gsize len;
  guint32 v;

  if (conn->stream) {
    memcpy (msg, &rel->id, 8);
    len = 8;
  } else if (rel->vendor) {
    v = QS_VENDOR_FD_COUNT;
    memcpy (msg, &v, 4);
    v = rel->n_ids;
    memcpy (msg + 4, &v, 4);
    v = QS_VENDOR_RETURN_BUFFER;
    memcpy (msg + 8, &v, 4);
    memcpy (msg + 12, rel->ids, 4 * rel->n_ids);
    len = 52;
  } else {
    v = QS_ITEM_RELEASE;
    memcpy (msg, &v, 4);
    v = 16;
    memcpy (msg + 4, &v, 4);
    v = 1;
    memcpy (msg + 8, &v, 4);
    memcpy (msg + 16, &rel->id, 8);
    len = 24;
  }
  g_mutex_lock (&conn->lock);
  if (!conn->dead) {
    if ((conn->stream ? qs_stream_send (conn->fd, QS_UNIXFD_RELEASE_BUFFER, msg, len, NULL, 0) :
            qs_socket_send (conn->fd, msg, len, NULL, 0)) < 0)
      GST_CAT_INFO (qs_src_debug, "could not return buffer %" G_GUINT64_FORMAT ": %s", rel->id,
          g_strerror (errno));
    else
      conn->n_released++;
  }
  g_mutex_unlock (&conn->lock);
}

static void
release_unref (gpointer data)
{
  Release *rel = data;

  if (!g_atomic_int_dec_and_test (&rel->refcount))
    return;
  if (!rel->silent)
    send_release (rel->conn, rel);
  qs_conn_unref (rel->conn);
  g_free (rel);
}

static void
drop_connection (QsInstance * inst, const gchar * reason)
{
  QsConn *conn;
  g_mutex_lock (&inst->lock);
  conn = inst->conn;
  inst->conn = NULL;
  if (conn)
    inst->n_released_before += conn->n_released;
  g_mutex_unlock (&inst->lock);
  if (inst->acceptor_wake_fd >= 0) {
    guint64 one = 1;            /* the acceptor may serve the next sender */
    if (write (inst->acceptor_wake_fd, &one, sizeof one) < 0)
      GST_WARNING_OBJECT (inst->element, "cannot wake the acceptor: %s", g_strerror (errno));
  }
  if (conn) {
    qs_conn_kill (conn);
    /* buffers downstream keep the connection object until they are freed, for their releases; the
     * socket itself is of no use any more: close it now (every user checks `dead` under the lock) */
    g_mutex_lock (&conn->lock);
    close (conn->fd);
    conn->fd = -1;
    /* the cached fds: each is closed once no memory uses it any more */
    g_clear_pointer (&conn->cache, g_hash_table_unref);
    g_mutex_unlock (&conn->lock);
    qs_conn_unref (conn);
  }
  qs_notify_disconnected (inst, &inst->peer_connected, reason, 0);
}

void
qs_src_instance_clear (QsInstance * inst)
{
  qs_instance_stop_acceptor (inst);
  drop_connection (inst, "the receiver stopped");
  g_clear_pointer (&inst->hello, g_bytes_unref);
  g_clear_pointer (&inst->hello_busy, g_bytes_unref);
  if (inst->conn_ready_fd >= 0)
    close (inst->conn_ready_fd);
  inst->conn_ready_fd = -1;
  qs_instance_unlisten (inst);
  GST_OBJECT_LOCK (inst->element);
  gst_clear_caps (&inst->caps);
  GST_OBJECT_UNLOCK (inst->element);
}

gboolean
qs_src_listen (QsInstance * inst, const gchar * path, gchar ** error)
{
  qs_src_instance_clear (inst);
  if (!qs_instance_listen (inst, path, FALSE, error))
    return FALSE;
  inst->first_logged = FALSE;
  return TRUE;
}

static void
start_acceptor (QsInstance * inst)
{
  inst->conn_ready_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  qs_instance_start_acceptor (inst, "qtisocketsrc-accept", acceptor_main);
}

/* a DMA-BUF is an anonymous inode whose link reads "/dmabuf:<name>" ("anon_inode:dmabuf" before
 * Linux 5.3); its size is where lseek(SEEK_END) lands */
static gboolean
is_dmabuf (gint fd)
{
  gchar link[64], target[64];
  gssize n;
  g_snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink (link, target, sizeof target - 1);
  if (n < 0)
    return FALSE;
  target[n] = '\0';
  return g_str_has_prefix (target, "/dmabuf:") || g_str_equal (target, "anon_inode:dmabuf");
}

static const gchar UNSEALED[] = "is on a file that is not sealed against shrinking (F_SEAL_SHRINK) "
    "and cannot be: mapping it is not safe";

/* What an fd received from the sender is: its kind (QS_MEM_FD for a regular file or memfd, sealed
 * against shrinking; QS_MEM_DMABUF; 0 for anything that is not mappable memory) and its size, which
 * can no longer go down. NULL, or why it cannot be mapped. */
static const gchar *
fd_facts (gint fd, guint64 * size, guint * kind)
{
  struct stat st;
  gint s;

  *size = 0;
  *kind = 0;
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode)) {
    /* a file that may shrink under our mapping would make reading it fault (SIGBUS): seal it
     * ourselves if the sender did not, then take its size, which can no longer go down */
    s = fcntl (fd, F_GET_SEALS);
    *size = st.st_size;
    if (s >= 0 && !(s & F_SEAL_SHRINK) && fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0) {
      /* sealed just now: the size read before may have shrunk since, read it again */
      s = fcntl (fd, F_GET_SEALS);
      *size = fstat (fd, &st) == 0 ? st.st_size : 0;
    }
    *kind = QS_MEM_FD;
    if (s < 0 || !(s & F_SEAL_SHRINK))
      return UNSEALED;
  } else if (is_dmabuf (fd)) {
    off_t end = lseek (fd, 0, SEEK_END);
    *size = end < 0 ? 0 : end;
    *kind = QS_MEM_DMABUF;
  } else {
    return "is on an fd that is not mappable memory";
  }
  return NULL;
}

void
qs_cached_unref (gpointer data)
{
  QsCached *c = data;
  if (!g_atomic_int_dec_and_test (&c->refcount))
    return;
  qs_cached_unmap (c);
  g_mutex_clear (&c->map_lock);
  close (c->fd);
  g_free (c);
}

static QsCached *
cached_new (gint fd)
{
  QsCached *c = g_new0 (QsCached, 1);
  c->refcount = 1;
  c->fd = fd;
  g_mutex_init (&c->map_lock);
  c->problem = fd_facts (fd, &c->size, &c->kind);
  return c;
}

static GQuark cached_quark;

static guint32
get_u32 (const guint8 * p)
{
  guint32 v;
  memcpy (&v, p, 4);
  return v;
}

/* The sender's running time rt, whose 0 was at sender_base on CLOCK_MONOTONIC, as our running time:
 * the same instant. Our segment starts at 0, so it is the buffer's timestamp. A sender that could not
 * place its running time on the clock yet (its preroll buffer, before PLAYING) sent it just now: the
 * buffer gets our running time of now, as do-timestamp would give it. */
/* one-way latency: now minus the instant the sender meant (meaningful when the sender syncs, i.e.
 * sends each buffer at its running time) */
static void
note_latency (QsInstance * inst, guint64 rt, guint64 sender_base)
{
  gint64 lat;
  if (!GST_CLOCK_TIME_IS_VALID (rt) || !GST_CLOCK_TIME_IS_VALID (sender_base))
    return;
  lat = (gint64) qs_monotonic_now () - (gint64) (rt + sender_base);
  g_mutex_lock (&inst->lock);
  inst->latency[inst->n_latency++ % QS_LATENCY_SAMPLES] = lat;
  g_mutex_unlock (&inst->lock);
}

static GstClockTime
our_running_time (QsInstance * inst, guint64 rt, guint64 sender_base)
{
  GstClockTime base;
  guint64 instant;
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return GST_CLOCK_TIME_NONE;
  base = qs_base_monotonic (inst->element);
  if (!GST_CLOCK_TIME_IS_VALID (base))
    return rt;
  instant = GST_CLOCK_TIME_IS_VALID (sender_base) ? rt + sender_base : qs_monotonic_now ();
  /* before our own start: as early as we can say */
  return instant > base ? instant - base : 0;
}

/* Whether GStreamer knows this video format number as a raw format. GStreamer 1.26 asserts (a
 * CRITICAL) on a number beyond its table where 1.22 answered NULL, and the number comes from the
 * peer: the largest of GStreamer's raw formats bounds the table. */
static gboolean
known_raw_format (guint format)
{
  static gsize largest = 0;
  if (g_once_init_enter (&largest)) {
    guint len = 0, i;
    gsize m = GST_VIDEO_FORMAT_ENCODED;
    const GstVideoFormat *all = gst_video_formats_raw (&len);
    for (i = 0; i < len; i++)
      m = MAX (m, (gsize) all[i]);
    g_once_init_leave (&largest, m);
  }
  return format != GST_VIDEO_FORMAT_UNKNOWN && format != GST_VIDEO_FORMAT_ENCODED && format <= largest;
}

/* a GstVideoFormat's name, whatever number came */
static const gchar *
format_name (guint format)
{
  const gchar *name = known_raw_format (format) ? gst_video_format_to_string (format) : NULL;
  return name ? name : "?";
}

/* Whether every plane the video meta describes lies inside the buffer's `total` bytes: downstream
 * (videoconvert...) reads `height` rows of `stride` bytes from each plane's offset. NULL if it does,
 * else why not. */
static const gchar *
video_meta_problem (guint format, guint width, guint height, guint n_planes, const gsize * offsets,
    const gint * strides, gsize total)
{
  const GstVideoFormatInfo *finfo;
  guint p, c;

  if (!known_raw_format (format) || !(finfo = gst_video_format_get_info (format)))
    return "unknown video format";
  if (GST_VIDEO_FORMAT_INFO_IS_TILED (finfo))
    return NULL;                /* tiles: planes are not rows of a stride; GStreamer checks those itself */
  if (n_planes != GST_VIDEO_FORMAT_INFO_N_PLANES (finfo) || width == 0 || height == 0 ||
      width > 32768 || height > 32768)
    return "planes or size unlike the format's";
  for (p = 0; p < n_planes; p++) {
    guint rows = 0;
    for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++)
      if (GST_VIDEO_FORMAT_INFO_PLANE (finfo, c) == p)
        rows = MAX (rows, (guint) GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (finfo, c, height));
    if (strides[p] <= 0 || offsets[p] > total || (guint64) strides[p] * rows > total - offsets[p])
      return "a plane reaches past the end of the buffer";
  }
  return NULL;
}

/* adds the region-of-interest record at r (its length, then ROI_META's body; lengths within the
 * record checked) */
static void
add_roi (QsInstance * inst, GstBuffer * buf, const guint8 * r)
{
  guint32 len = get_u32 (r), i;
  QsWireRoi w;
  gchar *type;
  GstVideoRegionOfInterestMeta *roi;
  gsize at;

  memcpy (&w, r + 4, sizeof w);
  type = g_strndup ((const gchar *) r + QS_DESC_ROI, w.type_length);
  roi = gst_buffer_add_video_region_of_interest_meta (buf, type, w.x, w.y, w.w, w.h);
  g_free (type);
  roi->id = w.id;
  roi->parent_id = w.parent_id;
  at = QS_DESC_ROI + qs_pad4 (w.type_length);
  for (i = 0; i < w.n_params && at + 4 <= len; i++) {
    guint32 slen = get_u32 (r + at);
    gchar *str = g_strndup ((const gchar *) r + at + 4, MIN (slen, len - at - 4));
    GstStructure *param = gst_structure_from_string (str, NULL);
    if (param)
      gst_video_region_of_interest_meta_add_param (roi, param);
    else
      GST_WARNING_OBJECT (inst->element, "dropped a region-of-interest parameter that does not parse: %s",
          str);
    g_free (str);
    at += 4 + qs_pad4 (slen);
  }
}

/* The fd cache (1.2): the ids of the fds that came with this message (each is cached, replacing what
 * the id named before), after the ids the sender lets us forget. Takes the fds (used[i] = TRUE). */
static gboolean
cache_fds (QsConn * conn, const guint32 * ids, gint * fds, guint n_fds, const guint32 * forget,
    guint n_forget, gboolean * used, gchar ** problem)
{
  QsCached **fresh = g_newa (QsCached *, n_fds + 1);
  gboolean ok = TRUE;
  guint i;

  for (i = 0; i < n_fds; i++) {
    fresh[i] = cached_new (fds[i]);     /* what each fd is: outside the lock */
    used[i] = TRUE;
  }
  g_mutex_lock (&conn->lock);
  if (!conn->cache)
    conn->cache = g_hash_table_new_full (NULL, NULL, NULL, qs_cached_unref);
  for (i = 0; i < n_forget; i++)
    g_hash_table_remove (conn->cache, GUINT_TO_POINTER (forget[i]));
  for (i = 0; i < n_fds; i++) {
    gpointer key = GUINT_TO_POINTER (ids[i]);
    if (ids[i] == 0 || (g_hash_table_size (conn->cache) >= QS_MAX_CACHED &&
            !g_hash_table_contains (conn->cache, key))) {
      if (ok)
        *problem = ids[i] == 0 ? g_strdup ("it names a new fd 0, which is not an id")
            : g_strdup_printf ("the sender keeps more than %u fds cached", QS_MAX_CACHED);
      ok = FALSE;
      qs_cached_unref (fresh[i]);
      continue;
    }
    g_hash_table_replace (conn->cache, key, fresh[i]);
  }
  g_mutex_unlock (&conn->lock);
  return ok;
}

/* How a description names the fds of its memories (QsDesc fd_naming, lib/protocol/desc.ts) */
enum {
  FDS_IN_MESSAGE = 0,           /* ours, 1.1: a memory's index is a position among the message's fds */
  FDS_CACHED = 1,               /* ours, 1.2: by the sender's id; the message's fds are named (FDS) */
  FDS_VENDOR_POOLED = 2,        /* the vendor's, pooled: by buf_id, cached; the fds that came belong to
                                 * the blocks not cached yet, in order (to every block if as many) */
  FDS_VENDOR = 3,               /* the vendor's, not pooled: the i-th fd block has the i-th fd; the
                                 * index is the buf_id, which goes back in RETURN_BUFFER */
};

/* how many of a description's memories are on fds (not inline); its memory count is checked */
static guint
fd_memories (const guint8 * d)
{
  guint32 n_mem = qs_desc_header (d).n_memories, i, n = 0;
  for (i = 0; i < n_mem; i++)
    n += qs_desc_memory (d, i).kind != QS_MEM_INLINE;
  return n;
}

/* The fds that came with a message, before its memories are made: cached (FDS_CACHED, after the
 * ids to forget; FDS_VENDOR_POOLED). Takes those it caches. */
static gboolean
take_fds (QsConn * conn, const guint8 * d, gsize len, guint mode, gint * fds, guint n_fds, gboolean * used,
    gchar ** problem)
{
  QsDesc h = qs_desc_header (d);
  guint32 n_mem = h.n_memories, n_forget = h.n_forget, i, n = 0;
  guint32 *ids = g_newa (guint32, n_fds + 1), *forget = g_newa (guint32, n_forget + 1);

  if (mode == FDS_CACHED) {
    const guint8 *section = d + len - 4 * ((gsize) n_fds + n_forget);
    for (i = 0; i < n_fds; i++)
      ids[i] = get_u32 (section + 4 * i);
    for (i = 0; i < n_forget; i++)
      forget[i] = get_u32 (section + 4 * (n_fds + i));
    return cache_fds (conn, ids, fds, n_fds, forget, n_forget, used, problem);
  }
  if (mode == FDS_VENDOR_POOLED && n_fds > 0) {
    guint n_blocks = fd_memories (d);
    for (i = 0; i < n_mem && n < n_fds; i++) {
      QsWireMemory m = qs_desc_memory (d, i);
      gboolean known;
      if (m.kind == QS_MEM_INLINE)
        continue;
      g_mutex_lock (&conn->lock);
      known = conn->cache && g_hash_table_contains (conn->cache, GUINT_TO_POINTER (m.fd));
      g_mutex_unlock (&conn->lock);
      if (n_fds == n_blocks || !known)
        ids[n++] = m.fd;
    }
    for (i = n; i < n_fds; i++) {
      close (fds[i]);           /* more fds than blocks that lack one */
      used[i] = TRUE;
    }
    return cache_fds (conn, ids, fds, n, NULL, 0, used, problem);
  }
  return TRUE;
}

/* The memory i of a buffer on fd idx (1.1: the idx-th fd that came with the message; 1.2: the fd the
 * sender cached as id idx), checked against what that fd really is. NULL, with *problem, if not. */
static GstMemory *
wrap_fd (QsConn * conn, gboolean cache_mode, guint i, guint32 idx, guint64 offset, guint64 size,
    guint64 maxsize, gint * fds, guint n_fds, gboolean * used, gboolean copy_unsealed, gboolean * copied,
    gchar ** problem)
{
  static GstAllocator *fd_alloc, *dmabuf_alloc;
  QsCached *cached = NULL;
  const gchar *why;
  guint64 fd_size;
  guint fd_kind;
  GstMemory *mem = NULL;
  gint fd;

  if (g_once_init_enter (&fd_alloc)) {
    dmabuf_alloc = gst_dmabuf_allocator_new ();
    g_once_init_leave (&fd_alloc, gst_fd_allocator_new ());
  }
  if (cache_mode) {
    g_mutex_lock (&conn->lock);
    cached = conn->cache ? g_hash_table_lookup (conn->cache, GUINT_TO_POINTER (idx)) : NULL;
    if (cached)
      g_atomic_int_inc (&cached->refcount);
    g_mutex_unlock (&conn->lock);
    if (!cached) {
      *problem = g_strdup_printf ("memory %u names fd %u, which the sender has not sent on this "
          "connection (or has made us forget)", i, idx);
      return NULL;
    }
    why = cached->problem;
    fd_size = cached->size;
    fd_kind = cached->kind;
  } else {
    if (idx >= n_fds) {
      *problem = g_strdup_printf ("memory %u refers to fd %u, but %u fds came with the message", i,
          idx, n_fds);
      return NULL;
    }
    why = fd_facts (fds[idx], &fd_size, &fd_kind);
  }
  if (why && !(why == UNSEALED && copy_unsealed)) {
    *problem = g_strdup_printf ("memory %u %s", i, why);
  } else if (maxsize > fd_size) {
    *problem = g_strdup_printf ("memory %u claims %" G_GUINT64_FORMAT " bytes of an fd of %"
        G_GUINT64_FORMAT, i, maxsize, fd_size);
  } else if (offset > maxsize || size > maxsize - offset) {
    *problem = g_strdup_printf ("memory %u spans %" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT
        " beyond its %" G_GUINT64_FORMAT " bytes", i, offset, size, maxsize);
  } else if (why == UNSEALED) {
    /* the vendor's wire: memory that we cannot map safely is read into our own, once (a file that
     * shrinks meanwhile gives a short read, not a fault) */
    guint8 *bytes = g_malloc (MAX (size, 1));
    gssize got = size ? pread (cached ? cached->fd : fds[idx], bytes, size, offset) : 0;
    if (got == (gssize) size) {
      mem = gst_memory_new_wrapped (0, bytes, MAX (size, 1), 0, size, bytes, g_free);
      *copied = TRUE;
    } else {
      g_free (bytes);
      *problem = g_strdup_printf ("memory %u shrank while we copied it", i);
    }
  } else if (cached && fd_kind == QS_MEM_FD) {
    /* a memfd or file: the memory shares the one mapping the cache entry keeps (rxmem.c) */
    mem = qs_rx_memory_new (cached, maxsize);
  } else if (cached) {
    /* a DMA-BUF (mapping it may need the exporter's cache syncs): the DMA-BUF allocator's own
     * mapping; the cache keeps the fd open, the memory holds the cache entry, not the fd */
    mem = gst_fd_allocator_alloc (dmabuf_alloc, cached->fd, maxsize,
        GST_FD_MEMORY_FLAG_KEEP_MAPPED | GST_FD_MEMORY_FLAG_DONT_CLOSE);
    if (mem) {
      gst_mini_object_set_qdata (GST_MINI_OBJECT (mem), cached_quark, cached, qs_cached_unref);
      cached = NULL;
    }
  } else {
    /* each memory owns its fd: a second memory on the same fd gets a duplicate. What the fd really
     * is (memfd/file or DMA-BUF) decides how it is wrapped, whatever the sender said. */
    fd = used[idx] ? fcntl (fds[idx], F_DUPFD_CLOEXEC, 0) : fds[idx];
    if (fd >= 0) {
      used[idx] = TRUE;
      mem = gst_fd_allocator_alloc (fd_kind == QS_MEM_DMABUF ? dmabuf_alloc : fd_alloc, fd, maxsize,
          GST_FD_MEMORY_FLAG_KEEP_MAPPED);
      if (!mem)
        close (fd);
    }
  }
  if (cached)
    qs_cached_unref (cached);
  return mem;
}

/* who the release goes to and how: on the vendor's wire, the buf_ids of the fd blocks */
static void
describe_release (const guint8 * d, guint mode, Release * rel)
{
  QsDesc h = qs_desc_header (d);
  guint32 i;
  rel->id = h.id;
  rel->vendor = mode == FDS_VENDOR_POOLED || mode == FDS_VENDOR;
  for (i = 0; rel->vendor && i < h.n_memories && rel->n_ids < QS_VENDOR_MAX_BLOCKS; i++) {
    QsWireMemory m = qs_desc_memory (d, i);
    if (m.kind != QS_MEM_INLINE)
      rel->ids[rel->n_ids++] = (gint32) m.fd;
  }
}

/* A buffer message we refused (described by TypeScript). Its fds are cached all the same if the
 * sender caches them (1.2), since it will name them again; the buffer goes back to the sender at once
 * if the sender holds it (if it shared memory by fd). Takes the fds it caches (*n_fds becomes 0). */
static void
release_dropped (QsConn * conn, GBytes * desc, gint * fds, guint * n_fds)
{
  gsize len;
  const guint8 *d = desc ? g_bytes_get_data (desc, &len) : NULL;
  Release rel = { 0 };
  gboolean shares;
  guint32 mode;
  QsDesc h;

  if (!d || len < QS_DESC_HEADER)
    return;
  h = qs_desc_header (d);
  mode = h.fd_naming;
  if (len < QS_DESC_HEADER + (gsize) h.n_memories * QS_DESC_MEM || mode > FDS_VENDOR ||
      (mode == FDS_CACHED && (h.n_forget > QS_MAX_CACHED ||
              4 * ((gsize) * n_fds + h.n_forget) > len - QS_DESC_HEADER)))
    return;
  shares = *n_fds > 0 || fd_memories (d) > 0;
  if (mode == FDS_CACHED || mode == FDS_VENDOR_POOLED) {
    gboolean *used = g_new0 (gboolean, *n_fds + 1);
    gchar *problem = NULL;
    take_fds (conn, d, len, mode, fds, *n_fds, used, &problem);
    g_free (problem);
    g_free (used);
    *n_fds = 0;
  }
  describe_release (d, mode, &rel);
  /* their sink holds every buffer it sent, even one without memory */
  if (shares || conn->stream)
    send_release (conn, &rel);
}

/* Builds the buffer from a description parsed by TypeScript; takes the fds. Checks every memory against
 * what its fd really is; on a buffer it refuses, returns NULL and, if it can say why, *problem. */
static GstBuffer *
build_buffer (QsInstance * inst, QsConn * conn, GBytes * bytes, gint * fds, guint n_fds,
    gchar ** problem)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (bytes, &len);
  guint32 n_mem, i, has_vmeta, n_roi, inline_len, n_forget, mode, n_blocks = 0;
  gsize extras, inline_at, cache_len, end;
  gboolean *used, shares, copied = FALSE;
  GstBuffer *buf;
  Release *rel;
  QsDesc h;

  if (len < QS_DESC_HEADER)
    return NULL;
  h = qs_desc_header (d);
  n_mem = h.n_memories;
  has_vmeta = h.has_video_meta;
  n_roi = h.n_rois;
  inline_len = h.inline_length;
  mode = h.fd_naming;
  n_forget = h.n_forget;
  cache_len = mode == FDS_CACHED ? 4 * ((gsize) n_fds + n_forget) : 0;
  extras = QS_DESC_HEADER + (gsize) n_mem * QS_DESC_MEM + (has_vmeta ? QS_DESC_VMETA : 0);
  if (mode > FDS_VENDOR || n_forget > QS_MAX_CACHED || len < extras + cache_len ||
      inline_len > len - extras - cache_len)
    return NULL;
  end = len - cache_len;
  inline_at = end - qs_pad4 (inline_len);
  shares = fd_memories (d) > 0;
  used = g_new0 (gboolean, n_fds + 1);
  if (!take_fds (conn, d, len, mode, fds, n_fds, used, problem)) {
    g_free (used);
    return NULL;
  }

  buf = gst_buffer_new ();
  note_latency (inst, h.running_pts, h.base_monotonic);
  if (gst_base_src_get_do_timestamp (GST_BASE_SRC (inst->element))) {
    /* do-timestamp: GstBaseSrc stamps it with our running time of its arrival */
    GST_BUFFER_PTS (buf) = GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  } else {
    GST_BUFFER_PTS (buf) = our_running_time (inst, h.running_pts, h.base_monotonic);
    GST_BUFFER_DTS (buf) = our_running_time (inst, h.running_dts, h.base_monotonic);
  }
  GST_BUFFER_DURATION (buf) = h.duration;
  GST_BUFFER_OFFSET (buf) = h.offset;
  GST_BUFFER_OFFSET_END (buf) = h.offset_end;

  rel = g_new0 (Release, 1);
  rel->refcount = 1;            /* ours until the buffer is complete */
  rel->conn = qs_conn_ref (conn);
  rel->id = h.id;
  /* the sender holds a buffer only if its message shared memory by fd, sent or cached (upstream's
   * unixfdsink holds every buffer it sent) */
  rel->silent = n_fds == 0 && !shares && !conn->stream;
  describe_release (d, mode, rel);
  for (i = 0; i < n_mem; i++) {
    QsWireMemory m = qs_desc_memory (d, i);
    guint32 idx = m.fd, kind = m.kind;
    guint64 offset = m.offset, size = m.size, maxsize = m.maxsize;
    GstMemory *mem;

    if (kind == QS_MEM_INLINE) {
      /* a copy of bytes that came in the message: ours, nothing to return for it */
      if (size > inline_len || inline_at + size > end)
        goto bad;
      {
        guint8 *bytes = g_malloc (MAX (size, 1));
        memcpy (bytes, d + inline_at, size);
        gst_buffer_append_memory (buf, gst_memory_new_wrapped (0, bytes, MAX (size, 1), 0, size,
                bytes, g_free));
      }
      inline_at += size;
      inline_len -= size;
      continue;
    }
    mem = wrap_fd (conn, mode == FDS_CACHED || mode == FDS_VENDOR_POOLED, i,
        mode == FDS_VENDOR ? n_blocks : idx, offset, size, maxsize, fds, n_fds, used,
        mode == FDS_VENDOR_POOLED || mode == FDS_VENDOR || conn->stream, &copied, problem);
    n_blocks++;
    if (!mem)
      goto bad;
    gst_memory_resize (mem, offset, size);
    GST_MINI_OBJECT_FLAG_SET (mem, GST_MEMORY_FLAG_READONLY);
    g_atomic_int_inc (&rel->refcount);

    gst_mini_object_set_qdata (GST_MINI_OBJECT (mem), release_quark, rel, release_unref);
    gst_buffer_append_memory (buf, mem);
  }
  if (has_vmeta) {
    QsWireVideoMeta v;
    gsize offsets[4];
    gint strides[4];
    const gchar *why;
    memcpy (&v, d + QS_DESC_HEADER + n_mem * QS_DESC_MEM, sizeof v);
    for (i = 0; i < 4; i++) {
      offsets[i] = v.offsets[i];
      strides[i] = v.strides[i];
    }
    why = video_meta_problem (v.format, v.width, v.height, v.n_planes, offsets, strides, gst_buffer_get_size (buf));
    if (why) {
      *problem = g_strdup_printf ("its video meta (%s %ux%u) does not fit: %s", format_name (v.format), v.width,
          v.height, why);
      goto bad;
    }
    if (!gst_buffer_add_video_meta_full (buf, v.flags, v.format, v.width, v.height, v.n_planes, offsets, strides))
      goto bad;
  }
  for (i = 0; i < n_roi; i++) {
    gsize roi_end = end - qs_pad4 (h.inline_length);
    guint32 rlen;
    QsWireRoi r;
    if (extras + QS_DESC_ROI > roi_end)
      goto bad;
    rlen = get_u32 (d + extras);
    memcpy (&r, d + extras + 4, sizeof r);
    if (rlen < QS_DESC_ROI || rlen > roi_end - extras || r.type_length > rlen - QS_DESC_ROI)
      goto bad;
    add_roi (inst, buf, d + extras);
    extras += rlen;
  }

  if (copied) {
    g_mutex_lock (&inst->lock);
    inst->n_copied++;
    g_mutex_unlock (&inst->lock);
    if (!conn->warned_unsealed) {
      conn->warned_unsealed = TRUE;
      GST_ELEMENT_WARNING (inst->element, STREAM, FORMAT,
          ("The sender on \"%s\" (%s) sends memory that cannot be sealed against shrinking: copying it on "
              "arrival instead of mapping it (counted in stats)", inst->path,
              conn->stream ? "upstream's unixfd wire" : "the vendor's wire"), (NULL));
    }
  }
  /* the sender's buffer flags (appending memory set TAG_MEMORY); never the mini-object bits */
  GST_BUFFER_FLAGS (buf) = h.flags & ~((guint32) GST_MINI_OBJECT_FLAG_LAST - 1);
  for (i = 0; i < n_fds; i++)
    if (!used[i])
      close (fds[i]);
  g_free (used);
  release_unref (rel);          /* with no memory at all, the release goes out now */
  return buf;

bad:
  for (i = 0; i < n_fds; i++)
    if (!used[i])
      close (fds[i]);
  g_free (used);
  gst_buffer_unref (buf);       /* memories built so far close their fds */
  release_unref (rel);
  return NULL;
}

typedef enum { CAPS_OK, CAPS_SKIP, CAPS_FAILED } CapsResult;

static CapsResult
set_caps (QsInstance * inst, const gchar * str)
{
  GstCaps *caps = gst_caps_from_string (str);
  if (!caps || !gst_caps_is_fixed (caps)) {
    /* a broken sender: its message is dropped, the stream goes on with the caps it had */
    GST_ELEMENT_WARNING (inst->element, STREAM, FORMAT,
        ("Dropped a buffer from the sender on %s: its caps %s \"%s\"", inst->path,
            caps ? "are not fixed:" : "do not parse:", str), (NULL));
    gst_clear_caps (&caps);
    return CAPS_SKIP;
  }
  if (inst->caps && gst_caps_is_equal (caps, inst->caps)) {
    gst_caps_unref (caps);
    return CAPS_OK;
  }
  GST_INFO_OBJECT (inst->element, "caps from the sender: %" GST_PTR_FORMAT, caps);
  if (!gst_pad_peer_query_accept_caps (GST_BASE_SRC_PAD (inst->element), caps)) {
    GST_ELEMENT_ERROR (inst->element, CORE, NEGOTIATION,
        ("Downstream does not accept the sender's caps %s", str), (NULL));
    gst_caps_unref (caps);
    return CAPS_FAILED;
  }
  GST_OBJECT_LOCK (inst->element);
  gst_caps_replace (&inst->caps, caps);
  GST_OBJECT_UNLOCK (inst->element);
  if (!gst_base_src_set_caps (GST_BASE_SRC (inst->element), caps)) {
    GST_ELEMENT_ERROR (inst->element, CORE, NEGOTIATION,
        ("Downstream does not accept the sender's caps %s", str), (NULL));
    gst_caps_unref (caps);
    return CAPS_FAILED;
  }
  gst_caps_unref (caps);
  return CAPS_OK;
}

/* The vendor's wire carries no caps: they come from downstream (a capsfilter after us), as with the
 * vendor's receiver, narrowed by what the first buffer shows (hint: e.g. video/x-raw, format=NV12,
 * width=320, height=240). Frames that do not match the caps downstream asked for are not refused
 * (their video meta describes them), as the vendor's receiver does not; a warning says so. */
static CapsResult
negotiate_hint (QsInstance * inst, const gchar * hint)
{
  GstCaps *filter = gst_caps_from_string (hint), *peer, *media;
  gchar *str;
  CapsResult res;

  if (!filter)
    return CAPS_SKIP;
  if (inst->caps) {
    gst_caps_unref (filter);
    return CAPS_OK;
  }
  peer = gst_pad_peer_query_caps (GST_BASE_SRC_PAD (inst->element), filter);
  if (gst_caps_is_empty (peer)) {
    gst_caps_unref (peer);
    media = gst_caps_new_empty_simple (gst_structure_get_name (gst_caps_get_structure (filter, 0)));
    peer = gst_pad_peer_query_caps (GST_BASE_SRC_PAD (inst->element), media);
    gst_caps_unref (media);
    if (!gst_caps_is_empty (peer))
      GST_ELEMENT_WARNING (inst->element, STREAM, FORMAT,
          ("The sender on \"%s\" (the vendor's wire, which carries no caps) sends %s, which downstream "
              "does not accept: using the caps downstream asks for", inst->path, hint), (NULL));
  }
  gst_caps_unref (filter);
  if (gst_caps_is_empty (peer)) {
    GST_ELEMENT_ERROR (inst->element, CORE, NEGOTIATION,
        ("The sender on \"%s\" speaks the vendor's wire, which carries no caps, and downstream accepts "
            "none for %s: put a capsfilter after qtisocketsrc", inst->path, hint), (NULL));
    gst_caps_unref (peer);
    return CAPS_FAILED;
  }
  peer = gst_caps_fixate (peer);
  str = gst_caps_to_string (peer);
  GST_INFO_OBJECT (inst->element, "the vendor's wire: caps %s from downstream", str);
  res = set_caps (inst, str);
  g_free (str);
  gst_caps_unref (peer);
  return res;
}

/* The acceptor thread accepts every sender as soon as it connects, whatever the element's state, and
 * greets it at once: the one it serves (a sender is greeted even while a live receiver is still
 * PAUSED), and the others as "busy" (they wait, in order, and are greeted again when their turn
 * comes). So a sender of ours can tell a busy receiver of ours from the vendor's, which greets nobody. */
static void
send_greeting (QsInstance * inst, gint fd, GBytes * hello)
{
  /* a sender that has already sent everything and closed its end (the vendor's sender in text
   * mode does) cannot be greeted, but what it sent is still to be read */
  if (qs_socket_send (fd, g_bytes_get_data (hello, NULL), g_bytes_get_size (hello), NULL, 0) < 0)
    GST_INFO_OBJECT (inst->element, "could not greet the sender: %s", g_strerror (errno));
}

/* The greeting goes out at once, the element's last one (the same bytes): a sender of ours that
 * waited a second for it, its JS thread busy, would take us for the vendor's receiver. The element
 * is told of the new sender before any of its messages is read. */
static gboolean
greet (QsInstance * inst, gint fd, gboolean busy)
{
  QsJsResult r = { 0 };
  GBytes **last = busy ? &inst->hello_busy : &inst->hello;
  gboolean sent = FALSE;

  if (*last) {
    send_greeting (inst, fd, *last);
    sent = TRUE;
  }
  if (!qs_js_call (inst, QS_HOOK_CONNECTED, NULL, 0, NULL, busy, &inst->acceptor_stopping, &r)) {
    if (!g_atomic_int_get (&inst->acceptor_stopping))
      GST_ELEMENT_ERROR (inst->element, LIBRARY, FAILED, ("%s", r.error), (NULL));
    qs_js_result_clear (&r);
    return FALSE;
  }
  if (r.data) {
    if (!sent)
      send_greeting (inst, fd, r.data);
    if (*last)
      g_bytes_unref (*last);
    *last = g_bytes_ref (r.data);
  }
  qs_js_result_clear (&r);
  return TRUE;
}

/* the sender on fd is the one we serve now */
static gboolean
serve (QsInstance * inst, gint fd)
{
  guint64 one = 1;
  QsConn *conn;
  if (!greet (inst, fd, FALSE)) {
    close (fd);
    return FALSE;
  }
  conn = qs_conn_new (fd);
  conn->since = g_get_monotonic_time ();
  conn->stream = inst->unixfd;  /* upstream's unixfdsink: it speaks first (its caps) */
  conn->heard = inst->unixfd;
  g_mutex_lock (&inst->lock);
  inst->conn = conn;
  inst->n_connections++;
  g_mutex_unlock (&inst->lock);
  if (write (inst->conn_ready_fd, &one, sizeof one) < 0)
    GST_WARNING_OBJECT (inst->element, "cannot signal the connection: %s", g_strerror (errno));
  return TRUE;
}

/* whether a sender is being served */
static gboolean
serving (QsInstance * inst)
{
  gboolean yes;
  g_mutex_lock (&inst->lock);
  yes = inst->conn != NULL;
  g_mutex_unlock (&inst->lock);
  return yes;
}

/* mode=connect: connects to the sender (a qtisocketsink mode=listen), retrying every
 * RECONNECT_MS while nobody listens, and again once the connection ended. Nobody listening for
 * NOBODY_WARN_US in a row is worth a warning, once per such stretch: a sender that connects too (a
 * qtisocketsink mode=connect) or a wrong path would otherwise go unnoticed. */
#define RECONNECT_MS 20
#define NOBODY_WARN_US (5 * G_USEC_PER_SEC)

static gpointer
connector_main (QsInstance * inst)
{
  gboolean said = FALSE, warned = FALSE;
  gint64 nobody_since = 0;
  for (;;) {
    struct pollfd p[2] = { {inst->acceptor_stop_fd, POLLIN, 0}, {inst->acceptor_wake_fd, POLLIN, 0} };
    gboolean busy;
    guint64 v;
    if (g_atomic_int_get (&inst->acceptor_stopping))
      break;
    busy = serving (inst);
    if (!busy) {
      gint fd = qs_socket_connect_type (inst->path, inst->unixfd), err = errno;
      gint64 now = g_get_monotonic_time ();
      if (fd >= 0) {
        GST_INFO_OBJECT (inst->element, "connected to the sender on %s", inst->path);
        said = warned = FALSE;
        if (!serve (inst, fd))
          break;
        continue;
      }
      if (!said) {
        GST_INFO_OBJECT (inst->element, "no sender listens on %s (%s): retrying", inst->path, g_strerror (err));
        nobody_since = now;
      }
      said = TRUE;
      if (!warned && now - nobody_since >= NOBODY_WARN_US) {
        GST_ELEMENT_WARNING (inst->element, RESOURCE, OPEN_READ, ("No sender listens on \"%s\" (%s) for %d s: still "
                "trying every %d ms (the sender must listen: qtisocketsink mode=listen%s)", inst->path, g_strerror (err),
                (gint) (NOBODY_WARN_US / G_USEC_PER_SEC), RECONNECT_MS, inst->unixfd ? ", or a unixfdsink" : ""), (NULL));
        warned = TRUE;
      }
    }
    /* the connection's end (or a stop) wakes us; while nobody listens, try again soon */
    if (poll (p, 2, busy ? -1 : RECONNECT_MS) < 0 && errno != EINTR)
      break;
    if (p[0].revents)
      break;
    if (p[1].revents && read (inst->acceptor_wake_fd, &v, sizeof v) < 0)
      GST_LOG_OBJECT (inst->element, "spurious wake-up");
  }
  return NULL;
}

static gpointer
acceptor_main (gpointer data)
{
  QsInstance *inst = data;
  GQueue waiting = G_QUEUE_INIT;        /* fds of the senders greeted as busy, in order */
  gint fd;

  if (inst->listen_fd < 0)
    return connector_main (inst);

  for (;;) {
    struct pollfd p[3] = { {inst->listen_fd, POLLIN, 0}, {inst->acceptor_stop_fd, POLLIN, 0},
    {inst->acceptor_wake_fd, POLLIN, 0}
    };
    gboolean busy;
    guint64 v;

    if (g_atomic_int_get (&inst->acceptor_stopping))
      break;
    busy = serving (inst);
    if (!busy && !g_queue_is_empty (&waiting)) {
      struct pollfd w = { GPOINTER_TO_INT (g_queue_pop_head (&waiting)), POLLIN, 0 };
      g_atomic_int_add (&inst->n_waiting, -1);
      /* one that hung up while it waited, having sent nothing, is gone */
      if (poll (&w, 1, 0) == 1 && (w.revents & POLLHUP) && !(w.revents & POLLIN)) {
        close (w.fd);
        continue;
      }
      GST_INFO_OBJECT (inst->element, "serving the next sender on %s", inst->path);
      if (!serve (inst, w.fd))
        break;
      continue;
    }
    if (poll (p, 3, -1) < 0 && errno != EINTR)
      break;
    if (p[1].revents)
      break;
    if (p[2].revents && read (inst->acceptor_wake_fd, &v, sizeof v) < 0)
      GST_LOG_OBJECT (inst->element, "spurious wake-up");
    if (!p[0].revents)
      continue;
    fd = accept4 (inst->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
      continue;                 /* the sender gave up meanwhile */
    busy = serving (inst);
    if (busy || !g_queue_is_empty (&waiting)) {
      GST_INFO_OBJECT (inst->element, "a sender connected on %s: busy with another, it waits", inst->path);
      if (!greet (inst, fd, TRUE)) {
        close (fd);
        break;
      }
      g_queue_push_tail (&waiting, GINT_TO_POINTER (fd));
      g_atomic_int_inc (&inst->n_waiting);
      continue;
    }
    GST_INFO_OBJECT (inst->element, "sender connected on %s", inst->path);
    if (!serve (inst, fd))
      break;
  }
  while ((fd = GPOINTER_TO_INT (g_queue_pop_head (&waiting))) > 0)
    close (fd);
  g_atomic_int_set (&inst->n_waiting, 0);
  return NULL;
}

static QsConn *
current_conn (QsInstance * inst)
{
  QsConn *conn;
  g_mutex_lock (&inst->lock);
  conn = inst->conn ? qs_conn_ref (inst->conn) : NULL;
  g_mutex_unlock (&inst->lock);
  return conn;
}

/* the `timeout` property: how long (ms) to wait for a message before waking up to say so; 0 = never */
static guint64
timeout_ms (QsInstance * inst)
{
  const GValue *v = qs_instance_prop (inst, "timeout");
  return v && G_VALUE_HOLDS_UINT64 (v) ? g_value_get_uint64 (v) : 0;
}

/* Waits (interruptibly) for fd to become readable. Every `timeout` ms without a message, posts a
 * "GstQtiSocketSrcTimeout" element message (as udpsrc does) and waits again. Returns as qs_wait_fd:
 * 0 only when `deadline` (monotonic µs; 0 = none) has passed, never for the `timeout` wake-ups. */
static gint
wait_message (QsInstance * inst, gint fd, gint64 * since, gint64 deadline)
{
  for (;;) {
    guint64 timeout = timeout_ms (inst);
    gint64 left = -1, now = g_get_monotonic_time ();
    gint res;

    if (deadline > 0 && now >= deadline)
      return 0;
    if (timeout > 0) {
      left = (*since + (gint64) MIN (timeout, G_MAXINT32) * 1000 - now) / 1000;
      if (left <= 0) {
        gboolean connected;
        g_mutex_lock (&inst->lock);
        connected = inst->conn != NULL;
        g_mutex_unlock (&inst->lock);
        GST_DEBUG_OBJECT (inst->element, "nothing received for %" G_GUINT64_FORMAT " ms", timeout);
        gst_element_post_message (inst->element,
            gst_message_new_element (GST_OBJECT (inst->element),
                gst_structure_new ("GstQtiSocketSrcTimeout", "timeout", G_TYPE_UINT64, timeout,
                    "connected", G_TYPE_BOOLEAN, connected, NULL)));
        *since = g_get_monotonic_time ();
        continue;
      }
    }
    if (deadline > 0)
      left = MIN (left < 0 ? G_MAXINT32 : left, (deadline - now + 999) / 1000);
    res = qs_wait_fd (inst, fd, (gint) left);
    if (res != 0 || g_atomic_int_get (&inst->flushing))
      return res;
  }
}

/* A sender that has said nothing this long after we began serving it, while another sender waits
 * its turn, is disconnected with a warning: a silent connection must not hold the receiver. (Alone,
 * it may stay: the vendor's sender, which never greets, speaks first when it has a buffer.) */
#define QS_GREETING_GRACE_US (5 * G_USEC_PER_SEC)

/* when to look again at a sender that has not spoken: 0 once it has */
static gint64
greeting_deadline (QsConn * conn)
{
  gint64 now = g_get_monotonic_time ();
  if (conn->heard)
    return 0;
  /* past the grace with nobody waiting: look again each second */
  return now < conn->since + QS_GREETING_GRACE_US ? conn->since + QS_GREETING_GRACE_US : now + G_USEC_PER_SEC;
}

/* QTISOCKET_NATIVE_CHECK=1 (the tests' fuzzers): every message the native decoder took is given to
 * the element too, whose answer must be the same description; a difference is a bug, logged as an
 * error */
static gboolean native_check;

static void
check_native (QsInstance * inst, const guint8 * payload, gsize n, guint n_fds, GBytes * native)
{
  QsJsResult r = { 0 };
  if (qs_js_call (inst, QS_HOOK_MESSAGE, payload, n, NULL, n_fds, &inst->flushing, &r) &&
      (r.action != QS_ACTION_BUFFER || !r.data || !g_bytes_equal (r.data, native)))
    GST_ELEMENT_ERROR (inst->element, LIBRARY, FAILED,
        ("The native decoder took a message of %" G_GSIZE_FORMAT " bytes otherwise than the element", n),
        (NULL));
  qs_js_result_clear (&r);
}

static GstFlowReturn
qs_create (GstPushSrc * psrc, GstBuffer ** outbuf)
{
  QsInstance *inst = qs_instance_get (psrc);
  QsConn *conn = NULL;
  gint64 since = g_get_monotonic_time ();

  for (;;) {
    QsJsResult r = { 0 };
    guint8 *payload;
    gint fds[QS_MAX_FDS];
    guint n_fds = 0, i;
    gssize n;
    gint res;
    GstFlowReturn ret;

    if (conn)
      qs_conn_unref (conn);
    conn = current_conn (inst);
    if (!conn) {
      guint64 v;
      if (wait_message (inst, inst->conn_ready_fd, &since, 0) <= 0) {
        if (g_atomic_int_get (&inst->flushing))
          return GST_FLOW_FLUSHING;
      } else if (read (inst->conn_ready_fd, &v, sizeof v) < 0) {
        GST_LOG_OBJECT (inst->element, "spurious wake-up");
      }
      continue;
    }

    res = wait_message (inst, conn->fd, &since, greeting_deadline (conn));
    if (res <= 0) {
      if (g_atomic_int_get (&inst->flushing)) {
        qs_conn_unref (conn);
        return GST_FLOW_FLUSHING;
      }
      if (res == 0 && g_atomic_int_get (&inst->n_waiting) > 0) {
        GST_ELEMENT_WARNING (inst->element, RESOURCE, READ, ("The sender on \"%s\" said nothing for %d s "
                "while another sender waits: disconnected it; serving the next", inst->path,
                (gint) (QS_GREETING_GRACE_US / G_USEC_PER_SEC)), (NULL));
        drop_connection (inst, "the sender did not greet");
      }
      continue;
    }
    n = conn->stream ? qs_stream_recv (conn->fd, &payload, fds, &n_fds) :
        qs_socket_recv (conn->fd, &payload, fds, &n_fds);
    if (n < 0 && errno == EAGAIN)
      continue;
    since = g_get_monotonic_time ();
    conn->heard = TRUE;
    inst->n_fds_received += n_fds;
    if (n <= 0) {
      gint err = n == 0 ? 0 : errno;
      GST_INFO_OBJECT (inst->element, "sender gone (%s)", err ? g_strerror (err) : "closed");
      drop_connection (inst, err == EPROTO || err == EMSGSIZE ? "the sender broke the framing" :
          "the sender went away");
      if (qs_js_call (inst, QS_HOOK_DISCONNECTED, NULL, 0, NULL, err, &inst->flushing, &r)) {
        qs_post_result_messages (inst, &r);
        if (r.error) {
          qs_js_result_clear (&r);
          qs_conn_unref (conn);
          return GST_FLOW_ERROR;
        }
      }
      qs_js_result_clear (&r);
      continue;
    }

    /* our wire: a buffer message is decoded natively (decode.c); what it does not take goes to
     * the element */
    if (conn->mode != QS_MODE_UNKNOWN) {
      gboolean caps_changed;
      if (conn->mode == QS_MODE_VENDOR)
        r.data = qs_decode_vendor_buffer (payload, n, n_fds);
      else if (conn->mode == QS_MODE_UNIXFD)
        r.data = qs_decode_unixfd_buffer (payload, n, n_fds);
      else
        r.data = qs_decode_buffer (payload, n, n_fds, conn->mode == QS_MODE_OURS_CACHED,
            conn->caps ? g_bytes_get_data (conn->caps, NULL) : NULL, conn->caps ? g_bytes_get_size (conn->caps) : 0,
            &caps_changed);
      if (r.data) {
        r.action = QS_ACTION_BUFFER;
        inst->n_native++;
        if (native_check)
          check_native (inst, payload, n, n_fds, r.data);
        g_free (payload);
        goto answered;
      }
    }
    if (!qs_js_call (inst, QS_HOOK_MESSAGE, payload, n, NULL, n_fds, &inst->flushing, &r)) {
      g_free (payload);
      for (i = 0; i < n_fds; i++)
        close (fds[i]);
      qs_conn_unref (conn);
      if (g_atomic_int_get (&inst->flushing)) {
        qs_js_result_clear (&r);
        return GST_FLOW_FLUSHING;
      }
      GST_ELEMENT_ERROR (inst->element, LIBRARY, FAILED, ("%s", r.error), (NULL));
      qs_js_result_clear (&r);
      return GST_FLOW_ERROR;
    }
    /* what the element found the sender speaks (from its greeting), and the caps it took */
    if (r.mode >= 0)
      conn->mode = r.mode;
    if (r.action == QS_ACTION_BUFFER && r.data) {
      const guint8 *caps;
      gsize caps_len;
      if (qs_message_caps (payload, n, &caps, &caps_len)) {
        if (conn->caps)
          g_bytes_unref (conn->caps);
        conn->caps = g_bytes_new (caps, caps_len);
      }
    }
    g_free (payload);
    qs_post_result_messages (inst, &r);
    if (r.peer)
      qs_notify_connected (inst, &inst->peer_connected, r.peer);

  answered:
    ret = GST_FLOW_OK;
    *outbuf = NULL;
    if (r.action == QS_ACTION_BUFFER && r.data) {
      /* caps_hint: the caps are a hint, the sender speaks the vendor's wire */
      CapsResult caps = !r.caps ? CAPS_OK : r.caps_hint ? negotiate_hint (inst, r.caps) :
          set_caps (inst, r.caps);
      if (caps == CAPS_FAILED) {
        ret = GST_FLOW_NOT_NEGOTIATED;
      } else if (caps == CAPS_SKIP) {
        release_dropped (conn, r.data, fds, &n_fds);
      } else {
        gchar *problem = NULL;
        *outbuf = build_buffer (inst, conn, r.data, fds, n_fds, &problem);
        n_fds = 0;              /* taken */
        if (!*outbuf && conn->stream) {
          /* upstream's unixfd wire has no way to say a buffer was refused: a sender whose buffer
           * does not hold up is not served further (it may connect again) */
          GST_ELEMENT_WARNING (inst->element, STREAM, DECODE,
              ("The sender on \"%s\" (upstream's unixfd wire) sent a buffer that does not hold up: %s: "
                  "disconnected it", inst->path, problem ? problem : "it could not be wrapped"), (NULL));
          g_free (problem);
          drop_connection (inst, "the sender lied");
        } else if (!*outbuf) {
          GST_ELEMENT_WARNING (inst->element, STREAM, DECODE,
              ("Dropped a buffer from the sender on \"%s\": %s", inst->path,
                  problem ? problem : "it could not be wrapped"), (NULL));
          g_free (problem);     /* build_buffer returned it to the sender, if it held it */
        } else {
          g_mutex_lock (&inst->lock);
          inst->n_received++;
          if (!inst->first_logged)
            GST_INFO_OBJECT (inst->element, "first buffer from the sender");
          inst->first_logged = TRUE;
          g_mutex_unlock (&inst->lock);
        }
      }
    } else if (r.action == QS_ACTION_NONE && r.caps && conn->stream) {
      /* upstream's unixfd wire: CAPS come alone, before the buffers they are for */
      CapsResult caps = set_caps (inst, r.caps);
      if (caps == CAPS_FAILED)
        ret = GST_FLOW_NOT_NEGOTIATED;
      else if (caps == CAPS_SKIP)
        drop_connection (inst, "the sender sent caps that do not parse");
    } else if (r.action == QS_ACTION_EOS) {
      GST_INFO_OBJECT (inst->element, "end of stream from the sender");
      ret = GST_FLOW_EOS;
    } else if (r.action == QS_ACTION_ERROR) {
      ret = GST_FLOW_ERROR;
    } else if (r.action == QS_ACTION_DISCONNECT) {
      drop_connection (inst, "disconnected by the receiver");
    } else if (r.action == QS_ACTION_DROP) {
      release_dropped (conn, r.data, fds, &n_fds);
    }
    for (i = 0; i < n_fds; i++)
      close (fds[i]);
    qs_js_result_clear (&r);
    if (ret != GST_FLOW_OK || *outbuf) {
      qs_conn_unref (conn);
      return ret;
    }
  }
}

static gboolean
qs_src_start (GstBaseSrc * bsrc)
{
  QsInstance *inst = qs_instance_get (bsrc);
  QsJsResult r = { 0 };
  gboolean ok = qs_js_call (inst, QS_HOOK_START, NULL, 0, NULL, 0, NULL, &r) && !r.error &&
      (inst->listen_fd >= 0 || r.path);
  if (ok && inst->listen_fd < 0) {
    /* mode=connect: the sender listens */
    g_free (inst->path);
    inst->path = g_strdup (r.path);
    inst->first_logged = FALSE;
  }
  inst->unixfd = ok && r.unixfd;
  if (ok)
    start_acceptor (inst);
  else
    GST_ELEMENT_ERROR (bsrc, RESOURCE, OPEN_READ, ("%s", r.error ? r.error : "not listening"),
        (NULL));
  qs_js_result_clear (&r);
  return ok;
}

static gboolean
qs_src_stop (GstBaseSrc * bsrc)
{
  QsInstance *inst = qs_instance_get (bsrc);
  qs_instance_stop (inst);
  qs_src_instance_clear (inst);
  return TRUE;
}

static GstCaps *
qs_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  QsInstance *inst = qs_instance_get (bsrc);
  GstCaps *caps = NULL;

  GST_OBJECT_LOCK (bsrc);
  if (inst && inst->caps)
    caps = gst_caps_ref (inst->caps);
  GST_OBJECT_UNLOCK (bsrc);
  if (!caps)
    caps = gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (bsrc));
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* caps come from the sender with the first buffer, not from fixating our template */
static gboolean
qs_src_negotiate (GstBaseSrc * bsrc)
{
  QsInstance *inst = qs_instance_get (bsrc);
  if (!inst->caps)
    return TRUE;
  return gst_base_src_set_caps (bsrc, inst->caps);
}

/* Live, with no latency of its own (a buffer goes out as soon as it arrives) and no limit on how long
 * it can wait: the sender holds its buffers until they are returned. Without this GstBaseSrc answers
 * max = min = 0, and a synchronising sink downstream (with its processing deadline) would call the
 * pipeline invalid ("please add queues"), as in a relay: qtisocketsrc ! qtisocketsink. */
static gboolean
qs_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  QsInstance *inst = qs_instance_get (bsrc);
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gst_query_set_latency (query, TRUE, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return inst->klass->parent_src_query (bsrc, query);
}

static gboolean
qs_src_unlock (GstBaseSrc * bsrc)
{
  qs_instance_unlock (qs_instance_get (bsrc));
  return TRUE;
}

static gboolean
qs_src_unlock_stop (GstBaseSrc * bsrc)
{
  qs_instance_unlock_stop (qs_instance_get (bsrc));
  return TRUE;
}

void
qs_src_install (GstPushSrcClass * klass, QsClass * k)
{
  GstBaseSrcClass *base = GST_BASE_SRC_CLASS (klass);
  release_quark = g_quark_from_static_string ("qtisocket-release");
  cached_quark = g_quark_from_static_string ("qtisocket-cached");
  native_check = g_strcmp0 (g_getenv ("QTISOCKET_NATIVE_CHECK"), "1") == 0;
  base->start = qs_src_start;
  base->stop = qs_src_stop;
  base->get_caps = qs_src_get_caps;
  base->negotiate = qs_src_negotiate;
  base->unlock = qs_src_unlock;
  k->parent_src_query = base->query;
  base->query = qs_src_query;
  base->unlock_stop = qs_src_unlock_stop;
  klass->create = qs_create;
}
