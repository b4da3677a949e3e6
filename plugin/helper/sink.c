/* qtisocketsink's native half: trampolines for the GstBaseSink vfuncs, connecting (with the
 * interruptible wait of wait-for-connection=true), the receivers served (QsPeer: the buffers each
 * holds, its fd cache), and the release thread that gives them back when a receiver returns them or
 * goes away. The
 * TypeScript element decides what each message says (lib/elements/qtisocketsink.ts). */
#include "qtisocket.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define GST_CAT_DEFAULT qs_sink_debug
#define GREETING_GRACE_MS 1000
#define RECONNECT_INTERVAL_MS 10
#define DEFAULT_MAX_INFLIGHT 16

static void close_pending (QsInstance * inst);
static void stop_listener (QsInstance * inst);

static gboolean
prop_bool (QsInstance * inst, const gchar * name)
{
  const GValue *v = qs_instance_prop (inst, name);
  return v && G_VALUE_HOLDS_BOOLEAN (v) && g_value_get_boolean (v);
}

static GHashTable *
inflight_table (void)
{
  return g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) gst_buffer_unref);
}

QsPeer *
qs_peer_new (void)
{
  QsPeer *p = g_new0 (QsPeer, 1);
  p->refcount = 1;
  p->inflight = inflight_table ();
  p->fd_cache = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  p->forget = g_array_new (FALSE, FALSE, sizeof (guint32));
  p->since = g_get_monotonic_time ();
  return p;
}

static QsPeer *
peer_ref (QsPeer * p)
{
  g_atomic_int_inc (&p->refcount);
  return p;
}

void
qs_peer_unref (QsPeer * p)
{
  if (!p || !g_atomic_int_dec_and_test (&p->refcount))
    return;
  g_hash_table_unref (p->inflight);
  g_hash_table_unref (p->fd_cache);
  g_array_unref (p->forget);
  g_clear_pointer (&p->vendor_out, g_hash_table_unref);
  g_clear_pointer (&p->vendor_left, g_hash_table_unref);
  if (p->conn)
    qs_conn_unref (p->conn);
  g_free (p->name);
  g_free (p);
}

void
qs_sink_instance_init (QsInstance * inst)
{
  inst->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) qs_peer_unref);
  inst->max_inflight = DEFAULT_MAX_INFLIGHT;
}

/* drops every buffer a receiver held; returns how many */
static guint
release_all (QsInstance * inst, QsPeer * peer)
{
  GHashTable *old;
  guint n;
  g_mutex_lock (&inst->lock);
  old = peer->inflight;
  peer->inflight = inflight_table ();
  n = g_hash_table_size (old);
  inst->n_released += n;
  peer->n_released += n;
  if (peer->vendor_out) {
    g_hash_table_remove_all (peer->vendor_out);
    g_hash_table_remove_all (peer->vendor_left);
  }
  g_cond_broadcast (&inst->cond);
  g_mutex_unlock (&inst->lock);
  g_hash_table_unref (old);     /* unrefs the buffers, outside the lock */
  return n;
}

/* The vendor's receiver returns buf_ids, one per memory block: the message holding a buf_id that
 * went out first is the one it returns (a buffer pushed twice holds it twice). Under inst->lock. */
static void
vendor_hold (QsPeer * peer, const gint32 * buf_ids, guint n_ids, guint64 id)
{
  guint i, n = 0;
  if (!peer->vendor_out) {
    peer->vendor_out = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_queue_free);
    peer->vendor_left = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  }
  for (i = 0; i < n_ids; i++) {
    GQueue *q;
    if (buf_ids[i] < 0)
      continue;                 /* not on an fd */
    q = g_hash_table_lookup (peer->vendor_out, GINT_TO_POINTER (buf_ids[i]));
    if (!q)
      g_hash_table_insert (peer->vendor_out, GINT_TO_POINTER (buf_ids[i]), (q = g_queue_new ()));
    g_queue_push_tail (q, g_memdup2 (&id, sizeof id));
    n++;
  }
  g_hash_table_insert (peer->vendor_left, g_memdup2 (&id, sizeof id), GUINT_TO_POINTER (n));
}

/* the buf_ids of a description's fd memories (its cache section: per memory id, fresh) */
static guint
desc_buf_ids (const guint8 * desc, gsize len, gint32 * buf_ids)
{
  QsDesc h = qs_desc_header (desc);
  gsize at = len - 4 * h.n_forget - 8 * h.n_memories;
  guint32 i;
  for (i = 0; i < h.n_memories && i < QS_VENDOR_MAX_BLOCKS; i++) {
    if (qs_desc_memory (desc, i).kind == QS_MEM_INLINE)
      buf_ids[i] = -1;
    else
      memcpy (&buf_ids[i], desc + at + 8 * i, 4);
  }
  return i;
}

/* a receiver gave buffer id back: it goes upstream once no other receiver holds it. FALSE if it
 * held no such buffer */
static gboolean
give_back (QsInstance * inst, QsPeer * peer, const guint64 * id)
{
  gpointer key = NULL;
  GstBuffer *buf = NULL;
  g_mutex_lock (&inst->lock);
  if (g_hash_table_steal_extended (peer->inflight, id, &key, (gpointer *) & buf)) {
    inst->n_released++;
    peer->n_released++;
    /* GLib's g_cond_broadcast is a futex syscall even when nobody waits: only when someone does */
    if (inst->release_waiters)
      g_cond_broadcast (&inst->cond);
  }
  g_mutex_unlock (&inst->lock);
  g_free (key);
  if (buf) {
    GST_LOG_OBJECT (inst->element, "receiver %u returned buffer %" G_GUINT64_FORMAT, peer->number, *id);
    gst_buffer_unref (buf);
  } else {
    GST_WARNING_OBJECT (inst->element, "receiver %u returned unknown buffer %" G_GUINT64_FORMAT, peer->number,
        *id);
  }
  return buf != NULL;
}

/* RETURN_BUFFER(buf_id): the buffer whose last block it was goes back */
static void
vendor_return (QsInstance * inst, QsPeer * peer, gint32 bid)
{
  GQueue *q;
  guint64 *id = NULL;
  gboolean last = FALSE;

  g_mutex_lock (&inst->lock);
  q = peer->vendor_out ? g_hash_table_lookup (peer->vendor_out, GINT_TO_POINTER (bid)) : NULL;
  if (q && (id = g_queue_pop_head (q))) {
    guint left = GPOINTER_TO_UINT (g_hash_table_lookup (peer->vendor_left, id));
    if (left > 1) {
      g_hash_table_insert (peer->vendor_left, g_memdup2 (id, sizeof *id), GUINT_TO_POINTER (left - 1));
    } else {
      g_hash_table_remove (peer->vendor_left, id);
      last = TRUE;
    }
  }
  g_mutex_unlock (&inst->lock);
  if (last)
    give_back (inst, peer, id);
  else if (!id)
    GST_DEBUG_OBJECT (inst->element, "the receiver returned buf_id %d, which it does not hold", bid);
  g_free (id);
}

typedef struct {
  QsInstance *inst;
  QsPeer *peer;
  gint32 n_fds;                 /* the vendor's FD_COUNT before RETURN_BUFFER */
  gboolean disconnect;          /* the vendor's receiver paused: it takes nothing more */
} Releases;

static gboolean
on_release_item (guint32 id, const guint8 * body, gsize len, gpointer user_data)
{
  Releases *rs = user_data;
  guint32 count, i;
  if (id == QS_VENDOR_FD_COUNT) {
    memcpy (&rs->n_fds, body, 4);
    return TRUE;
  }
  if (id == QS_VENDOR_RETURN_BUFFER) {
    for (i = 0; rs->n_fds > 0 && i < (guint32) MIN (rs->n_fds, QS_VENDOR_MAX_BLOCKS); i++) {
      gint32 bid;
      memcpy (&bid, body + 4 * i, 4);
      vendor_return (rs->inst, rs->peer, bid);
    }
    return TRUE;
  }
  if (id == QS_VENDOR_DISCONNECT) {
    rs->disconnect = TRUE;
    return TRUE;
  }
  if (id != QS_ITEM_RELEASE)
    return TRUE;
  if (len < 8)
    return FALSE;
  memcpy (&count, body, 4);
  if (count > (len - 8) / 8)
    return FALSE;
  for (i = 0; i < count; i++) {
    guint64 bid;
    memcpy (&bid, body + 8 + 8 * i, 8);
    give_back (rs->inst, rs->peer, &bid);
  }
  return TRUE;
}

static gboolean
has_only_releases (guint32 id, const guint8 * body, gsize len, gpointer user_data)
{
  return id == QS_ITEM_RELEASE || id == QS_VENDOR_FD_COUNT || id == QS_VENDOR_RETURN_BUFFER ||
      id == QS_VENDOR_DISCONNECT;
}

/* A command from upstream's unixfdsrc (wire=unixfd): RELEASE_BUFFER(id) gives a buffer back; commands
 * of types their wire does not have yet are skipped, as their sink does. NULL, or how it lies (the
 * sizes, fds, a command only a sender sends, an id it never got): then it is disconnected. */
static gchar *
unixfd_command (QsInstance * inst, QsPeer * peer, const guint8 * msg, gsize len, guint n_fds)
{
  QsUnixfdCommand c;
  guint64 id;
  memcpy (&c, msg, sizeof c);
  if (c.type > QS_UNIXFD_EOS)
    return NULL;
  if (c.type != QS_UNIXFD_RELEASE_BUFFER)
    return g_strdup_printf ("sent a command of type %u, which only a sender sends", c.type);
  if (n_fds)
    return g_strdup_printf ("sent %u fds with RELEASE_BUFFER", n_fds);
  if (len != sizeof c + 8)
    return g_strdup_printf ("sent a RELEASE_BUFFER of %" G_GSIZE_FORMAT " bytes (8 expected)", len - sizeof c);
  memcpy (&id, msg + sizeof c, 8);
  if (!give_back (inst, peer, &id))
    return g_strdup_printf ("released buffer %" G_GUINT64_FORMAT ", which it does not hold", id);
  return NULL;
}

/* the release thread: reads one message a receiver sent (releases; anything else goes to the element);
 * FALSE when the receiver is gone, or is dropped for what it sent */
static gboolean
read_message (QsInstance * inst, QsPeer * peer)
{
  QsConn *conn = peer->conn;
  Releases rs = { inst, peer, 0, FALSE };
  guint8 *payload;
  gint fds[QS_MAX_FDS];
  guint n_fds = 0, i;
  gssize n;

  n = conn->stream ? qs_stream_recv (conn->fd, &payload, fds, &n_fds) :
      qs_socket_recv (conn->fd, &payload, fds, &n_fds);
  for (i = 0; i < n_fds; i++)
    close (fds[i]);             /* a receiver never sends fds */
  if (n < 0 && errno == EAGAIN)
    return TRUE;
  if (n <= 0) {
    GST_INFO_OBJECT (inst->element, "receiver %u closed the connection (%s)", peer->number,
        n == 0 ? "end of stream" : g_strerror (errno));
    return FALSE;
  }
  if (conn->stream) {
    gchar *lie = unixfd_command (inst, peer, payload, n, n_fds);
    g_free (payload);
    if (lie) {
      GST_ELEMENT_WARNING (inst->element, STREAM, FAILED, ("A receiver on \"%s\" (upstream's unixfd wire, "
              "receiver %u) %s: disconnected it", inst->path, peer->number, lie), (NULL));
      g_free (lie);
      return FALSE;
    }
    return TRUE;
  }
  if (!qs_items_foreach (payload, n, on_release_item, &rs)) {
    GST_WARNING_OBJECT (inst->element, "malformed message from receiver %u (%" G_GSSIZE_FORMAT
        " bytes): ignored", peer->number, n);
  } else if (!qs_items_foreach (payload, n, has_only_releases, NULL)) {
    qs_js_post (inst, QS_HOOK_PEER_MESSAGE, payload, n, 0);
  }
  g_free (payload);
  if (rs.disconnect) {
    /* the vendor's receiver paused for good (it cannot resume): as if it went away */
    GST_INFO_OBJECT (inst->element, "the receiver sent DISCONNECT");
    return FALSE;
  }
  return TRUE;
}

/* the release thread, under rel_lock: a receiver went away; what it held is released, the listener
 * reaps it (mode=listen), the element hears of it */
static void
peer_gone (QsInstance * inst, QsPeer * peer)
{
  guint n;
  qs_conn_kill (peer->conn);
  n = release_all (inst, peer);
  GST_INFO_OBJECT (inst->element, "receiver gone: released the %u buffers it held (receiver %u)", n, peer->number);
  qs_notify_disconnected (inst, &peer->connected, "the receiver went away", n);
  g_atomic_int_set (&peer->gone, 1);
  if (inst->acceptor_wake_fd >= 0) {
    guint64 one = 1;            /* mode=listen: the listener reaps it */
    if (write (inst->acceptor_wake_fd, &one, sizeof one) < 0)
      GST_WARNING_OBJECT (inst->element, "cannot wake the listener: %s", g_strerror (errno));
  }
  /* never waits for JS: the streaming thread may wait for rel_lock to reconnect */
  qs_js_post (inst, QS_HOOK_DISCONNECTED, NULL, 0, n);
}

/* ---- the release thread: one for all the receivers of a sink, waiting on all their connections at
 * once (epoll). Receivers return a buffer at about the same moment: one wake-up takes them all, where
 * a thread per receiver woke once per receiver and buffer. A receiver's messages are handled under
 * rel_lock, which end_peer takes to stop reading one: after it, nothing touches that receiver here. */
static gpointer
releases_main (gpointer data)
{
  QsInstance *inst = data;
  struct epoll_event evs[16];

  for (;;) {
    gint n = epoll_wait (inst->rel_epoll, evs, G_N_ELEMENTS (evs), -1), i;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      GST_ERROR_OBJECT (inst->element, "epoll_wait: %s", g_strerror (errno));
      return NULL;
    }
    for (i = 0; i < n; i++) {
      guint number = evs[i].data.u32;
      QsPeer *peer;
      if (number == 0)
        return NULL;            /* the stop eventfd */
      g_mutex_lock (&inst->rel_lock);
      peer = g_hash_table_lookup (inst->rel_peers, GUINT_TO_POINTER (number));
      if (peer && !read_message (inst, peer)) {
        epoll_ctl (inst->rel_epoll, EPOLL_CTL_DEL, peer->conn->fd, NULL);
        peer_ref (peer);
        g_hash_table_remove (inst->rel_peers, GUINT_TO_POINTER (number));
        peer_gone (inst, peer);
        qs_peer_unref (peer);
      }
      g_mutex_unlock (&inst->rel_lock);
    }
  }
}

/* the release thread reads this receiver's messages from now on (started with the first) */
static void
start_reading (QsInstance * inst, QsPeer * peer)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = peer->number };
  g_mutex_lock (&inst->rel_lock);
  if (!inst->releases) {
    struct epoll_event stop = { .events = EPOLLIN, .data.u32 = 0 };
    inst->rel_epoll = epoll_create1 (EPOLL_CLOEXEC);
    inst->rel_stop_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    inst->rel_peers = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) qs_peer_unref);
    epoll_ctl (inst->rel_epoll, EPOLL_CTL_ADD, inst->rel_stop_fd, &stop);
    inst->releases = g_thread_new ("qtisocketsink-releases", releases_main, inst);
  }
  g_hash_table_insert (inst->rel_peers, GUINT_TO_POINTER (peer->number), peer_ref (peer));
  if (epoll_ctl (inst->rel_epoll, EPOLL_CTL_ADD, peer->conn->fd, &ev) < 0)
    GST_ERROR_OBJECT (inst->element, "cannot wait for receiver %u: %s", peer->number, g_strerror (errno));
  g_mutex_unlock (&inst->rel_lock);
}

/* nothing reads this receiver's messages any more (it may be reading them as this is called: waits) */
static void
stop_reading (QsInstance * inst, QsPeer * peer)
{
  g_mutex_lock (&inst->rel_lock);
  if (inst->rel_peers && g_hash_table_contains (inst->rel_peers, GUINT_TO_POINTER (peer->number))) {
    epoll_ctl (inst->rel_epoll, EPOLL_CTL_DEL, peer->conn->fd, NULL);
    g_hash_table_remove (inst->rel_peers, GUINT_TO_POINTER (peer->number));
  }
  g_mutex_unlock (&inst->rel_lock);
}

/* the release thread ends (every receiver ended first) */
static void
stop_releases (QsInstance * inst)
{
  guint64 one = 1;
  if (!inst->releases)
    return;
  if (write (inst->rel_stop_fd, &one, sizeof one) < 0)
    GST_WARNING_OBJECT (inst->element, "cannot stop the release thread: %s", g_strerror (errno));
  g_thread_join (inst->releases);
  inst->releases = NULL;
  close (inst->rel_epoll);
  close (inst->rel_stop_fd);
  g_clear_pointer (&inst->rel_peers, g_hash_table_unref);
}

/* stops reading a receiver's messages and closes its connection; what it held is released */
static void
end_peer (QsInstance * inst, QsPeer * peer, const gchar * reason)
{
  stop_reading (inst, peer);
  if (peer->conn) {
    /* its last releases may still be queued: read them, so closing does not reset its end */
    g_mutex_lock (&peer->conn->lock);
    if (!peer->conn->dead)
      qs_socket_discard (peer->conn->fd);
    g_mutex_unlock (&peer->conn->lock);
    qs_conn_kill (peer->conn);
  }
  qs_notify_disconnected (inst, &peer->connected, reason, release_all (inst, peer));
}

/* forgets every receiver (nothing reads them any more); in-flight buffers are released */
static void
disconnect (QsInstance * inst)
{
  GPtrArray *peers;
  guint i;

  g_mutex_lock (&inst->lock);
  peers = inst->peers;
  inst->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) qs_peer_unref);
  g_mutex_unlock (&inst->lock);
  for (i = 0; i < peers->len; i++)
    end_peer (inst, g_ptr_array_index (peers, i), "disconnected by the sink");
  g_ptr_array_unref (peers);
  close_pending (inst);
}

void
qs_sink_instance_clear (QsInstance * inst)
{
  gst_buffer_replace (&inst->prerolled, NULL);
  stop_listener (inst);
  if (inst->peers)
    disconnect (inst);
  stop_releases (inst);
  g_clear_pointer (&inst->peers, g_ptr_array_unref);
  g_clear_pointer (&inst->caps_item, g_bytes_unref);
  g_clear_pointer (&inst->caps_string, g_free);
  g_clear_pointer (&inst->vendor_dims, g_array_unref);
}

/* the receivers served now, each with a reference, into out; under inst->lock */
static void
peers_snapshot_locked (QsInstance * inst, GPtrArray * out)
{
  guint i;
  for (i = 0; i < inst->peers->len; i++)
    if (!g_atomic_int_get (&((QsPeer *) g_ptr_array_index (inst->peers, i))->gone))
      g_ptr_array_add (out, peer_ref (g_ptr_array_index (inst->peers, i)));
}

static GPtrArray *
peers_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) qs_peer_unref);
}

/* the receivers served now, each with a reference, into out; with id, the next buffer's id too
 * (one lock) */
static void
peers_snapshot (QsInstance * inst, GPtrArray * out, guint64 * id)
{
  g_mutex_lock (&inst->lock);
  peers_snapshot_locked (inst, out);
  if (id)
    *id = ++inst->next_id;
  g_mutex_unlock (&inst->lock);
}

/* A receiver that greeted (takes: QS_TAKES_*) is served from now on: the release thread reads it. unixfd:
 * upstream's unixfdsrc (wire=unixfd), which greets nobody */
static QsPeer *
add_peer (QsInstance * inst, gint fd, gint takes, const gchar * name, gboolean unixfd)
{
  QsPeer *peer = qs_peer_new ();

  peer->conn = qs_conn_new (fd);
  peer->conn->stream = peer->unixfd = unixfd;
  peer->takes_inline = (takes & QS_TAKES_INLINE) != 0;
  peer->takes_cache = (takes & QS_TAKES_CACHE) != 0;
  peer->no_skip = (takes & QS_TAKES_NO_SKIP) != 0;
  peer->vendor = (takes & QS_TAKES_VENDOR) != 0;
  peer->name = g_strdup (name ? name : "?");
  qs_notify_connected (inst, &peer->connected, peer->name);
  g_mutex_lock (&inst->lock);
  peer->number = ++inst->n_peers_ever;
  inst->n_connections++;
  g_ptr_array_add (inst->peers, peer_ref (peer));
  g_cond_broadcast (&inst->cond);
  g_mutex_unlock (&inst->lock);
  start_reading (inst, peer);
  qs_peer_unref (peer);
  return peer;
}

typedef enum { CONNECTED, NOT_CONNECTED, FAILED, FLUSHING } ConnectResult;

static void
close_pending (QsInstance * inst)
{
  if (inst->pending_fd >= 0)
    close (inst->pending_fd);
  inst->pending_fd = -1;
}

/* A connection whose greeting has not come yet is kept from buffer to buffer. Our receiver greets at
 * once when it accepts, even while it serves another sender ("busy": then a second greeting comes
 * when it is free). A receiver that stays silent for GREETING_GRACE_MS is the vendor's: we speak
 * their wire to it. Never blocks longer than the grace. On CONNECTED, *takes and *name say what the
 * receiver takes and who it is. */
static ConnectResult
poll_greeting (QsInstance * inst, gint * takes, gchar ** name)
{
  QsJsResult r = { 0 };
  guint8 *payload = NULL;
  gint fds[QS_MAX_FDS];
  guint n_fds = 0, i;
  gssize n;
  ConnectResult res = FAILED;
  gint fd = inst->pending_fd;

  /* a receiver that is free greets within milliseconds of accepting: give it a moment after
   * connecting (the preroll buffer must get through for a pipeline holding both ends to preroll) */
  if (!inst->pending_busy) {
    /* rounded up: the wait must end past the grace, or the buffer would be dropped for nothing */
    gint64 left = (inst->pending_since + GREETING_GRACE_MS * 1000 - g_get_monotonic_time () + 999) / 1000;
    if (left > 0 && qs_wait_fd (inst, fd, left) == 0 && g_atomic_int_get (&inst->flushing))
      return FLUSHING;
  }
  n = qs_socket_recv (fd, &payload, fds, &n_fds);
  for (i = 0; i < n_fds; i++)
    close (fds[i]);
  if (n < 0 && errno == EAGAIN) {
    if (inst->pending_busy ||
        g_get_monotonic_time () - inst->pending_since < GREETING_GRACE_MS * 1000)
      return NOT_CONNECTED;
    /* silence: the vendor's receiver, which greets nobody */
    if (!qs_js_call (inst, QS_HOOK_HANDSHAKE, NULL, 0, NULL, QS_HANDSHAKE_SILENT, &inst->flushing, &r)) {
      res = g_atomic_int_get (&inst->flushing) ? FLUSHING : FAILED;
      if (res == FAILED)
        GST_ELEMENT_ERROR (inst->element, LIBRARY, FAILED, ("%s", r.error), (NULL));
    } else {
      qs_post_result_messages (inst, &r);
      res = r.error ? FAILED : CONNECTED;
    }
  } else if (n <= 0) {
    /* the receiver went away before greeting us: as if nobody listened */
    close_pending (inst);
    return NOT_CONNECTED;
  } else if (!qs_js_call (inst, QS_HOOK_HANDSHAKE, payload, n, NULL, 0, &inst->flushing, &r)) {
    res = g_atomic_int_get (&inst->flushing) ? FLUSHING : FAILED;
    if (res == FAILED)
      GST_ELEMENT_ERROR (inst->element, LIBRARY, FAILED, ("%s", r.error), (NULL));
  } else if (r.takes & QS_TAKES_BUSY) {
    /* it serves another sender: its second greeting says when it is ours */
    qs_post_result_messages (inst, &r);
    inst->pending_busy = TRUE;
    res = NOT_CONNECTED;
  } else {
    /* our greeting goes back even when JS refuses the peer, so that it can report it too */
    gboolean sent = !r.data || qs_socket_send (fd, g_bytes_get_data (r.data, NULL),
        g_bytes_get_size (r.data), NULL, 0) == 0;
    if (r.error)
      qs_post_result_messages (inst, &r);
    else
      res = sent ? CONNECTED : NOT_CONNECTED;
  }
  if (res == CONNECTED) {
    *takes = r.takes;
    *name = g_strdup (r.peer ? r.peer : "?");
  }
  g_free (payload);
  qs_js_result_clear (&r);
  if (res != CONNECTED && res != FLUSHING && !(res == NOT_CONNECTED && inst->pending_busy))
    close_pending (inst);
  return res;
}

static ConnectResult
try_connect (QsInstance * inst)
{
  ConnectResult res;
  gint takes = 0;
  gchar *name = NULL;

  if (inst->pending_fd < 0) {
    gint fd = qs_socket_connect (inst->path);
    if (fd < 0) {
      gint err = errno;
      QsJsResult r = { 0 };
      res = NOT_CONNECTED;
      if (!inst->warned_no_receiver || (err != ENOENT && err != ECONNREFUSED && err != EAGAIN)) {
        inst->warned_no_receiver = TRUE;
        if (qs_js_call (inst, QS_HOOK_NO_RECEIVER, NULL, 0, g_strerror (err), err, &inst->flushing,
                &r)) {
          qs_post_result_messages (inst, &r);
          if (r.error)
            res = FAILED;
        } else if (g_atomic_int_get (&inst->flushing)) {
          res = FLUSHING;
        }
        qs_js_result_clear (&r);
      }
      return res;
    }
    inst->pending_fd = fd;
    inst->pending_since = g_get_monotonic_time ();
    inst->pending_busy = FALSE;
  }

  res = poll_greeting (inst, &takes, &name);
  if (res != CONNECTED)
    return res;
  add_peer (inst, inst->pending_fd, takes, name, FALSE);
  inst->pending_fd = -1;
  inst->warned_no_receiver = FALSE;
  g_free (name);
  GST_INFO_OBJECT (inst->element, "connected to the receiver on %s", inst->path);
  return CONNECTED;
}

/* mode=connect: the one receiver, if it is still there */
static gboolean
connected (QsInstance * inst)
{
  gboolean yes;
  g_mutex_lock (&inst->lock);
  yes = inst->peers->len > 0;
  if (yes) {
    QsPeer *p = g_ptr_array_index (inst->peers, 0);
    yes = !p->conn->dead && !g_atomic_int_get (&p->gone);
  }
  g_mutex_unlock (&inst->lock);
  return yes;
}

/* streaming thread: makes sure we have a live connection; waits (interruptibly) if asked to */
static ConnectResult
ensure_connected (QsInstance * inst)
{
  if (connected (inst))
    return CONNECTED;
  if (inst->peers->len)
    disconnect (inst);
  for (;;) {
    ConnectResult res = try_connect (inst);
    if (res != NOT_CONNECTED || !prop_bool (inst, "wait-for-connection"))
      return res;
    /* a pending connection wakes us as soon as its greeting comes */
    if (qs_wait_fd (inst, inst->pending_fd, RECONNECT_INTERVAL_MS) == 0 &&
        g_atomic_int_get (&inst->flushing))
      return FLUSHING;
  }
}


/* ---- mode=listen: the sink binds the socket and serves every receiver that connects and greets --
 * An acceptor thread accepts, reads each greeting (the element answers it), and hands the receiver
 * over to add_peer; it also reaps the receivers the release thread saw go. A receiver that does not
 * greet within LISTEN_GREETING_MS, or greets wrongly, is disconnected with a warning; the others are
 * not disturbed. */
#define LISTEN_GREETING_MS 5000

static gboolean
listening (QsInstance * inst)
{
  return inst->listen_fd >= 0;
}

/* the receivers the release thread saw go: out of the list, ended */
static void
reap (QsInstance * inst)
{
  GPtrArray *gone = g_ptr_array_new_with_free_func ((GDestroyNotify) qs_peer_unref);
  guint i;
  g_mutex_lock (&inst->lock);
  for (i = 0; i < inst->peers->len;) {
    QsPeer *p = g_ptr_array_index (inst->peers, i);
    if (g_atomic_int_get (&p->gone)) {
      g_ptr_array_add (gone, peer_ref (p));
      g_ptr_array_remove_index (inst->peers, i);
    } else {
      i++;
    }
  }
  g_mutex_unlock (&inst->lock);
  for (i = 0; i < gone->len; i++) {
    QsPeer *p = g_ptr_array_index (gone, i);
    end_peer (inst, p, "the receiver went away");
    GST_INFO_OBJECT (inst->element, "receiver %u (%s) left: sent %" G_GUINT64_FORMAT ", returned %"
        G_GUINT64_FORMAT ", skipped %" G_GUINT64_FORMAT, p->number, p->name, p->n_sent, p->n_released, p->n_skipped);
  }
  g_ptr_array_unref (gone);
}

typedef struct {
  gint fd;
  gint64 since;
} Pending;

/* a connected receiver's greeting: TRUE when it is settled (served, or refused and closed) */
static gboolean
take_greeting (QsInstance * inst, gint fd)
{
  QsJsResult r = { 0 };
  guint8 *payload = NULL;
  gint fds[QS_MAX_FDS];
  guint n_fds = 0, i;
  gssize n = qs_socket_recv (fd, &payload, fds, &n_fds);

  for (i = 0; i < n_fds; i++)
    close (fds[i]);
  if (n < 0 && errno == EAGAIN)
    return FALSE;
  if (n <= 0) {
    GST_INFO_OBJECT (inst->element, "a receiver left %s before greeting", inst->path);
    close (fd);
    return TRUE;
  }
  if (!qs_js_call (inst, QS_HOOK_HANDSHAKE, payload, n, NULL, 0, &inst->acceptor_stopping, &r)) {
    close (fd);
  } else if (r.error || (r.takes & QS_TAKES_BUSY)) {
    /* a receiver that greets wrongly is refused; the sink serves on (our greeting goes back, so
     * that it can say why too) */
    if (r.data)
      qs_socket_send (fd, g_bytes_get_data (r.data, NULL), g_bytes_get_size (r.data), NULL, 0);
    GST_ELEMENT_WARNING (inst->element, STREAM, FAILED, ("%s: disconnected it",
            r.error ? r.error : "A receiver said it serves another sender"), (NULL));
    close (fd);
  } else if (r.data && qs_socket_send (fd, g_bytes_get_data (r.data, NULL), g_bytes_get_size (r.data), NULL,
          0) < 0) {
    close (fd);
  } else {
    QsPeer *p;
    qs_post_result_messages (inst, &r);
    p = add_peer (inst, fd, r.takes & ~QS_TAKES_VENDOR, r.peer, FALSE);
    GST_INFO_OBJECT (inst->element, "receiver %u (%s) joined on %s", p->number, p->name, inst->path);
  }
  g_free (payload);
  qs_js_result_clear (&r);
  return TRUE;
}

static gpointer
listener_main (gpointer data)
{
  QsInstance *inst = data;
  GArray *pending = g_array_new (FALSE, FALSE, sizeof (Pending));
  guint i;

  for (;;) {
    struct pollfd *p = g_new (struct pollfd, 3 + pending->len);
    gint64 now = g_get_monotonic_time (), next = -1;
    guint64 v;
    gint timeout = -1;

    if (g_atomic_int_get (&inst->acceptor_stopping))
      break;
    p[0] = (struct pollfd) { inst->listen_fd, POLLIN, 0 };
    p[1] = (struct pollfd) { inst->acceptor_stop_fd, POLLIN, 0 };
    p[2] = (struct pollfd) { inst->acceptor_wake_fd, POLLIN, 0 };
    for (i = 0; i < pending->len; i++) {
      Pending *q = &g_array_index (pending, Pending, i);
      p[3 + i] = (struct pollfd) { q->fd, POLLIN, 0 };
      if (next < 0 || q->since + LISTEN_GREETING_MS * 1000 < next)
        next = q->since + LISTEN_GREETING_MS * 1000;
    }
    if (next >= 0)
      timeout = MAX (0, (next - now + 999) / 1000);
    if ((poll (p, 3 + pending->len, timeout) < 0 && errno != EINTR) || p[1].revents) {
      g_free (p);
      break;
    }
    if (p[2].revents && read (inst->acceptor_wake_fd, &v, sizeof v) >= 0)
      reap (inst);
    /* greetings, and receivers silent too long (from the last: removals keep the others' places) */
    now = g_get_monotonic_time ();
    for (i = pending->len; i-- > 0;) {
      Pending *q = &g_array_index (pending, Pending, i);
      gboolean settled = FALSE;
      if (p[3 + i].revents)
        settled = take_greeting (inst, q->fd);
      if (!settled && now >= q->since + LISTEN_GREETING_MS * 1000) {
        GST_ELEMENT_WARNING (inst->element, STREAM, FAILED, ("A receiver connected to \"%s\" and did not greet "
                "within %d s: disconnected it", inst->path, LISTEN_GREETING_MS / 1000), (NULL));
        close (q->fd);
        settled = TRUE;
      }
      if (settled)
        g_array_remove_index (pending, i);
    }
    if (p[0].revents) {
      Pending q = { accept4 (inst->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), g_get_monotonic_time () };
      if (q.fd >= 0 && inst->unixfd) {
        /* upstream's unixfdsrc greets nobody: served at once, its caps first */
        QsPeer *np = add_peer (inst, q.fd, 0, "unixfdsrc (upstream GStreamer's unixfd wire)", TRUE);
        GST_INFO_OBJECT (inst->element, "receiver %u (%s) joined on %s", np->number, np->name, inst->path);
      } else if (q.fd >= 0) {
        g_array_append_val (pending, q);
      }
    }
    g_free (p);
  }
  for (i = 0; i < pending->len; i++)
    close (g_array_index (pending, Pending, i).fd);
  g_array_unref (pending);
  return NULL;
}

static void
stop_listener (QsInstance * inst)
{
  qs_instance_stop_acceptor (inst);
  qs_instance_unlisten (inst);
}

/* mode=listen, streaming thread: the receivers served (into peers) and the next buffer's id, under
 * one lock; with wait-for-connection, waits (interruptibly) for a receiver */
static ConnectResult
any_receiver (QsInstance * inst, GPtrArray * peers, guint64 * id)
{
  gboolean wait = prop_bool (inst, "wait-for-connection");
  ConnectResult res = NOT_CONNECTED;
  g_mutex_lock (&inst->lock);
  for (;;) {
    peers_snapshot_locked (inst, peers);
    if (peers->len) {
      res = CONNECTED;
      *id = ++inst->next_id;
      break;
    }
    if (!wait)
      break;
    if (g_atomic_int_get (&inst->flushing)) {
      res = FLUSHING;
      break;
    }
    g_cond_wait (&inst->cond, &inst->lock);
  }
  g_mutex_unlock (&inst->lock);
  return res;
}

/* copy_into(METADATA) leaves out the metas tied to the memory layout (the video meta among them); our
 * copy has the very layout of the original, memory for memory, so they stay true: copy them too */
static gboolean
copy_memory_meta (GstBuffer * src, GstMeta ** meta, gpointer user_data)
{
  const GstMetaInfo *info = (*meta)->info;
  GstMetaTransformCopy whole = { FALSE, 0, (gsize) - 1 };
  if (info->transform_func &&
      gst_meta_api_type_has_tag (info->api, g_quark_from_static_string (GST_META_TAG_MEMORY_STR)))
    info->transform_func (user_data, *meta, src, _gst_meta_transform_copy, &whole);
  return TRUE;
}

/* Memory the receiver may map: a DMA-BUF (its size is fixed), or a file that can never shrink under
 * the receiver's mapping (SIGBUS): sealed with F_SEAL_SHRINK, by us if nobody did. */
static gboolean
shareable_memory (GstMemory * mem)
{
  gint fd, seals;
  if (!gst_is_fd_memory (mem))
    return FALSE;
  if (gst_is_dmabuf_memory (mem))
    return TRUE;
  fd = gst_fd_memory_get_fd (mem);
  seals = fcntl (fd, F_GET_SEALS);
  if (seals >= 0 && (seals & F_SEAL_SHRINK))
    return TRUE;
  return seals >= 0 && fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0;
}

/* a copy of mem's bytes, into a sealed memfd or into plain memory */
static GstMemory *
copy_memory (GstMemory * mem, gboolean into_memfd)
{
  GstMapInfo in, out;
  GstMemory *m;
  if (!gst_memory_map (mem, &in, GST_MAP_READ))
    return NULL;
  if (into_memfd) {
    m = qs_memfd_alloc (MAX (in.size, 1));
    if (m && gst_memory_map (m, &out, GST_MAP_WRITE)) {
      memcpy (out.data, in.data, in.size);
      gst_memory_unmap (m, &out);
      gst_memory_resize (m, 0, in.size);
    } else if (m) {
      gst_memory_unref (m);
      m = NULL;
    }
  } else {
    guint8 *bytes = g_malloc (MAX (in.size, 1));
    memcpy (bytes, in.data, in.size);
    m = gst_memory_new_wrapped (0, bytes, MAX (in.size, 1), 0, in.size, bytes, g_free);
  }
  gst_memory_unmap (mem, &in);
  return m;
}

typedef enum { AS_IS, INLINE, INTO_MEMFD } How;

/* The buffer to send: each memory shareable as it is, or travelling inline (QS_INLINE_MAX bytes in all,
 * to a receiver that takes inline memory), or copied into a sealed memfd (counted). The same buffer when
 * nothing needs copying; describe() sends inline whatever is not fd memory. */
static GstBuffer *
shareable_buffer (QsInstance * inst, QsPeer * peer, GstBuffer * buf)
{
  guint i, n = gst_buffer_n_memory (buf);
  gsize inline_bytes = 0, copied_bytes = 0;
  How *how = g_newa (How, MAX (n, 1));
  gboolean any_inline = FALSE, any_copy = FALSE, rebuild = FALSE;
  /* the vendor's text travels inside the message, whatever memory it is in */
  gboolean all_inline = peer->vendor && inst->caps_text;
  GstBuffer *copy;

  for (i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    if (!all_inline && shareable_memory (mem)) {
      how[i] = AS_IS;
    } else if (all_inline || (peer->takes_inline && inline_bytes + mem->size <= QS_INLINE_MAX)) {
      how[i] = INLINE;
      inline_bytes += mem->size;
      any_inline = TRUE;
      rebuild |= gst_is_fd_memory (mem);       /* fd memory whose bytes go inline: rebuilt */
    } else {
      how[i] = INTO_MEMFD;
      any_copy = rebuild = TRUE;
    }
  }
  if (!rebuild) {
    copy = gst_buffer_ref (buf);
  } else {
    copy = gst_buffer_new ();
    for (i = 0; i < n; i++) {
      GstMemory *mem = gst_buffer_peek_memory (buf, i), *m;
      if (how[i] == AS_IS || (how[i] == INLINE && !gst_is_fd_memory (mem))) {
        gst_buffer_append_memory (copy, gst_memory_ref (mem));
        continue;
      }
      m = copy_memory (mem, how[i] == INTO_MEMFD);
      if (!m) {
        gst_buffer_unref (copy);
        return NULL;
      }
      if (how[i] == INTO_MEMFD)
        copied_bytes += mem->size;
      gst_buffer_append_memory (copy, m);
    }
    gst_buffer_copy_into (copy, buf, GST_BUFFER_COPY_METADATA, 0, -1);
    if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_TAG_MEMORY))
      GST_BUFFER_FLAG_UNSET (copy, GST_BUFFER_FLAG_TAG_MEMORY);     /* set by appending: not the sender's */
    gst_buffer_foreach_meta (buf, copy_memory_meta, copy);
    GST_LOG_OBJECT (inst->element, "memory not shareable as it is: %" G_GSIZE_FORMAT " bytes into "
        "memfds, %" G_GSIZE_FORMAT " inline", copied_bytes, inline_bytes);
  }
  if (any_copy || any_inline) {
    g_mutex_lock (&inst->lock);
    inst->n_copied += any_copy;
    inst->n_inlined += any_inline;
    inst->n_bytes_copied += copied_bytes + inline_bytes;
    g_mutex_unlock (&inst->lock);
  }
  return copy;
}

static void
put_u32 (guint8 * p, guint32 v)
{
  memcpy (p, &v, 4);
}

/* a region-of-interest record (QS_DESC_ROI), written at d if d is not NULL; returns its length */
static gsize
describe_roi (GstVideoRegionOfInterestMeta * roi, guint8 * d)
{
  const gchar *type = g_quark_to_string (roi->roi_type);
  gsize len = QS_DESC_ROI + qs_pad4 (strlen (type));
  guint n_params = 0;
  GList *l;

  if (d)
    memcpy (d + QS_DESC_ROI, type, strlen (type));
  for (l = roi->params; l; l = l->next, n_params++) {
    gchar *str = gst_structure_to_string (l->data);
    gsize slen = strlen (str);
    if (d) {
      put_u32 (d + len, slen);
      memcpy (d + len + 4, str, slen);
    }
    len += 4 + qs_pad4 (slen);
    g_free (str);
  }
  if (d) {
    QsWireRoi r = { roi->id, roi->parent_id, roi->x, roi->y, roi->w, roi->h, strlen (type), n_params };
    put_u32 (d, len);
    memcpy (d + 4, &r, sizeof r);
  }
  return len;
}

/* ---- the fd cache (protocol 1.2): the receiver keeps each fd it got, by an id of ours; a later
 * message names the id instead of sending the fd again, so pool buffers cross as fds only once ---- */
typedef struct {
  dev_t dev;
  ino_t ino;
  guint32 id;
} Cached;

/* Everything cached so far is forgotten (the ids go to the receiver with the next message): after a
 * message with new fds that did not go out. */
static void
cache_reset (QsPeer * peer)
{
  GHashTableIter it;
  Cached *c;
  g_hash_table_iter_init (&it, peer->fd_cache);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & c))
    g_array_append_val (peer->forget, c->id);
  g_hash_table_remove_all (peer->fd_cache);
}

/* The id the receiver knows the file of fd by; *fresh when the fd must go with the message: the
 * first time, or when the number now names another file (the old id is then forgotten). */
guint32
qs_sink_cache_id (QsPeer * peer, gint fd, gboolean * fresh)
{
  struct stat st;
  Cached *c = g_hash_table_lookup (peer->fd_cache, GINT_TO_POINTER (fd));

  if (fstat (fd, &st) != 0)
    memset (&st, 0, sizeof st);
  if (c && c->dev == st.st_dev && c->ino == st.st_ino && c->ino != 0) {
    *fresh = FALSE;
    return c->id;
  }
  if (c) {
    g_array_append_val (peer->forget, c->id);
  } else {
    c = g_new (Cached, 1);
    g_hash_table_insert (peer->fd_cache, GINT_TO_POINTER (fd), c);
  }
  c->dev = st.st_dev;
  c->ino = st.st_ino;
  if (++peer->next_cache_id == 0)
    ++peer->next_cache_id;
  c->id = peer->next_cache_id;
  *fresh = TRUE;
  return c->id;
}

/* The description (lib/protocol/desc.ts BufferDesc, with its cache section) of a buffer that the
 * native encoder of the vendor's wire left to the element, which says why their wire cannot carry it */
static guint8 *
describe (GstBaseSink * bsink, QsInstance * inst, QsPeer * peer, GstBuffer * buf, guint64 id, gsize * len)
{
  guint i, n = gst_buffer_n_memory (buf), n_roi = 0;
  GstSegment seg;
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  gsize roi_len = 0, inline_len = 0, at, cache_len;
  QsWireVideoMeta layout;
  gboolean has_layout;
  guint mode;
  guint8 *d;

  for (i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    if (!gst_is_fd_memory (mem))
      inline_len += mem->size;
  }
  while ((roi = (GstVideoRegionOfInterestMeta *) gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    roi_len += describe_roi (roi, NULL);
    n_roi++;
  }

  /* how the memories name their fds (lib/protocol/desc.ts): by our cache's ids when the buffer comes
   * from a pool (their receiver caches its fds), else by the fd numbers, every fd going along */
  mode = buf->pool ? 2 : 3;
  /* their FRAME needs the layout: the caps' one when the buffer has no video meta */
  has_layout = qs_video_layout (inst, buf, n == 1, &layout);
  cache_len = 8 * n + 4 * peer->forget->len;   /* forgets may grow below: see the end */
  *len = QS_DESC_HEADER + n * QS_DESC_MEM + (has_layout ? QS_DESC_VMETA : 0) + roi_len +
      qs_pad4 (inline_len);
  d = g_malloc0 (*len + cache_len + 4 * n);
  /* timing that survives the hop: running times, and where running time 0 is on CLOCK_MONOTONIC */
  GST_OBJECT_LOCK (bsink);
  seg = bsink->segment;
  GST_OBJECT_UNLOCK (bsink);
  {
    GstClockTime running_pts = qs_running_time (&seg, GST_BUFFER_PTS (buf));
    QsDesc h = { .id = id, .pts = GST_BUFFER_PTS (buf), .dts = GST_BUFFER_DTS (buf),
      .duration = GST_BUFFER_DURATION (buf), .offset = GST_BUFFER_OFFSET (buf),
      .offset_end = GST_BUFFER_OFFSET_END (buf), .flags = GST_BUFFER_FLAGS (buf), .n_memories = n,
      .has_video_meta = has_layout, .running_pts = running_pts,
      .running_dts = qs_running_time (&seg, GST_BUFFER_DTS (buf)),
      .base_monotonic = qs_sent_base (qs_base_monotonic (GST_ELEMENT (bsink)), running_pts),
      .n_rois = n_roi, .inline_length = inline_len,
      .fd_naming = mode };
    memcpy (d, &h, sizeof h);
  }
  at = *len - qs_pad4 (inline_len);
  for (i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    QsWireMemory m = { i, QS_MEM_INLINE, 0, mem->size, mem->size };
    if (gst_is_fd_memory (mem)) {
      m.kind = gst_is_dmabuf_memory (mem) ? QS_MEM_DMABUF : QS_MEM_FD;
      m.offset = mem->offset;
      m.maxsize = mem->maxsize;
    } else {
      /* inline: the bytes follow, one memory after the other */
      GstMapInfo map;
      if (gst_memory_map (mem, &map, GST_MAP_READ)) {
        memcpy (d + at, map.data, map.size);
        gst_memory_unmap (mem, &map);
      }
      at += mem->size;
    }
    memcpy (d + QS_DESC_HEADER + i * QS_DESC_MEM, &m, sizeof m);
  }
  at = QS_DESC_HEADER + n * QS_DESC_MEM;
  if (has_layout) {
    memcpy (d + at, &layout, sizeof layout);
    at += QS_DESC_VMETA;
  }
  state = NULL;
  while ((roi = (GstVideoRegionOfInterestMeta *) gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
    at += describe_roi (roi, d + at);
  /* per memory its id and whether its fd goes along, then the ids the receiver may forget (a number
   * that named another file before adds its old id: at most one per memory) */
  at = *len;
  for (i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    gboolean fresh = FALSE;
    if (gst_is_fd_memory (mem) && mode == 3) {
      put_u32 (d + at, gst_fd_memory_get_fd (mem));     /* not cached: it goes every time */
      fresh = TRUE;
    } else if (gst_is_fd_memory (mem)) {
      put_u32 (d + at, qs_sink_cache_id (peer, gst_fd_memory_get_fd (mem), &fresh));
    }
    put_u32 (d + at + 4, fresh);
    at += 8;
  }
  ((QsDesc *) d)->n_forget = peer->forget->len;
  memcpy (d + at, peer->forget->data, 4 * peer->forget->len);
  *len = at + 4 * peer->forget->len;
  return d;
}

/* What makes a buffer shareable depends only on whether the receiver takes inline memory and whether
 * it is the vendor's: each such kind of receiver gets its shareable buffer made once per buffer (a copy
 * into a memfd is not made again for each receiver) */
#define SHAREABLE_KINDS 4
#define SHAREABLE_KIND(peer) ((peer)->takes_inline | ((peer)->vendor << 1))

/* One buffer to one receiver. Backpressure: a receiver holding max-in-flight of our buffers makes
 * the sink wait (slow-receiver=wait) or misses this buffer (skip, counted for it). shareable: the
 * buffer made shareable for each kind of receiver so far (filled here, unreffed by the caller). */
/* a message to a receiver counted as sent (sign 1), or that count undone (-1); under inst->lock */
static void
count_sent (QsInstance * inst, QsPeer * peer, guint n_fds, gboolean shares, gint sign)
{
  inst->n_sent += sign;
  peer->n_sent += sign;
  inst->n_fds_sent += sign * (gint64) n_fds;
  peer->n_fds_sent += sign * (gint64) n_fds;
  if (!shares) {
    inst->n_released += sign;   /* held by nobody: released as it is sent */
    peer->n_released += sign;
  }
}

static GstFlowReturn
send_to_peer (GstBaseSink * bsink, QsInstance * inst, QsPeer * peer, GstBuffer * buf, guint64 id,
    GstBuffer ** shareable)
{
  QsJsResult r = { 0 };
  GstBuffer *sendbuf;
  guint8 *desc = NULL;
  gsize desc_len = 0;
  gint fds[QS_MAX_FDS];
  gint32 buf_ids[QS_VENDOR_MAX_BLOCKS];
  guint n_fds = 0, n_ids = 0, i;
  QsConn *conn = peer->conn;
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean shares = FALSE, sent = FALSE;

  g_mutex_lock (&inst->lock);
  if (inst->skip_slow && !peer->no_skip && g_hash_table_size (peer->inflight) >= inst->max_inflight) {
    peer->n_skipped++;
    inst->n_skipped++;
    g_mutex_unlock (&inst->lock);
    GST_LOG_OBJECT (bsink, "receiver %u holds %u buffers: it misses buffer %" G_GUINT64_FORMAT, peer->number,
        inst->max_inflight, id);
    return GST_FLOW_OK;
  }
  while (!conn->dead && !g_atomic_int_get (&inst->flushing) &&
      g_hash_table_size (peer->inflight) >= inst->max_inflight) {
    inst->release_waiters++;
    g_cond_wait (&inst->cond, &inst->lock);
    inst->release_waiters--;
  }
  g_mutex_unlock (&inst->lock);
  if (g_atomic_int_get (&inst->flushing))
    return GST_FLOW_FLUSHING;
  if (conn->dead) {
    g_mutex_lock (&inst->lock);
    inst->n_dropped++;
    g_mutex_unlock (&inst->lock);
    return GST_FLOW_OK;         /* the receiver left while we waited */
  }

  if (!shareable[SHAREABLE_KIND (peer)])
    shareable[SHAREABLE_KIND (peer)] = shareable_buffer (inst, peer, buf);
  sendbuf = shareable[SHAREABLE_KIND (peer)] ? gst_buffer_ref (shareable[SHAREABLE_KIND (peer)]) : NULL;
  if (!sendbuf) {
    GST_ELEMENT_ERROR (bsink, RESOURCE, NO_SPACE_LEFT, ("Cannot copy the buffer into shared memory"),
        (NULL));
    return GST_FLOW_ERROR;
  }
  if (peer->unixfd) {
    /* upstream's unixfd wire: encoded natively too; a buffer their wire cannot carry (more memories
     * than fds go in one message, DMA-BUFs mixed with other memory) is not sent to that receiver */
    GstSegment seg;
    QsEncodeArgs a = { sendbuf, id, &seg, qs_base_monotonic (GST_ELEMENT (bsink)), NULL, peer };
    GST_OBJECT_LOCK (bsink);
    seg = bsink->segment;
    GST_OBJECT_UNLOCK (bsink);
    r.data = qs_encode_unixfd_buffer (inst, &a, gst_base_sink_get_latency (bsink), fds, &n_fds);
    if (!r.data) {
      if (!peer->warned)
        GST_ELEMENT_WARNING (bsink, STREAM, FORMAT, ("A buffer of %u memories cannot go to the receiver %u on "
                "\"%s\" (upstream's unixfd wire: at most %d memories, all DMA-BUFs or none): it misses such "
                "buffers", gst_buffer_n_memory (sendbuf), peer->number, inst->path, QS_MAX_FDS), (NULL));
      peer->warned = TRUE;
      g_mutex_lock (&inst->lock);
      peer->n_skipped++;
      inst->n_skipped++;
      g_mutex_unlock (&inst->lock);
      goto done;
    }
    inst->n_native++;
    goto encoded;
  }
  if (!peer->vendor) {
    /* our wire: encoded natively, every buffer (encode.c) */
    GstSegment seg;
    QsEncodeArgs a = { sendbuf, id, &seg, GST_CLOCK_TIME_NONE, NULL, peer };
    GST_OBJECT_LOCK (bsink);
    seg = bsink->segment;
    GST_OBJECT_UNLOCK (bsink);
    /* the encoder writes the base it is given (a codec: codec.test.ts checks it both ways); which base
     * a preroll buffer gets is the sink's to say */
    a.base_monotonic = qs_sent_base (qs_base_monotonic (GST_ELEMENT (bsink)),
        qs_running_time (&seg, GST_BUFFER_PTS (sendbuf)));
    /* caps go in-band with the first buffer of each connection and after every change */
    if (!peer->caps_sent)
      a.caps_item = inst->caps_item;
    r.data = qs_encode_buffer (inst, &a, fds, &n_fds);
    inst->n_native++;           /* stats' fast-path: encoded without a call into JavaScript */
    goto encoded;
  }
  /* the vendor's wire: encoded natively too (encode.c); what their wire cannot carry goes to the
   * element, which says why */
  r.data = qs_encode_vendor_buffer (inst, peer, sendbuf, fds, &n_fds, buf_ids, &n_ids);
  if (r.data) {
    inst->n_native++;
    goto encoded;
  }
  desc = describe (bsink, inst, peer, sendbuf, id, &desc_len);
  if (!qs_js_call (inst, QS_HOOK_RENDER, desc, desc_len, NULL, 0, &inst->flushing, &r)) {
    if (g_atomic_int_get (&inst->flushing)) {
      ret = GST_FLOW_FLUSHING;
    } else {
      GST_ELEMENT_ERROR (bsink, LIBRARY, FAILED, ("%s", r.error), (NULL));
      ret = GST_FLOW_ERROR;
    }
    goto done;
  }
  if (r.error || !r.data) {
    GST_ELEMENT_ERROR (bsink, STREAM, FAILED, ("%s", r.error ? r.error : "nothing to send"), (NULL));
    ret = GST_FLOW_ERROR;
    goto done;
  }
  n_ids = desc_buf_ids (desc, desc_len, buf_ids);
  for (i = 0; r.fds && i < r.fds->len && n_fds < QS_MAX_FDS; i++) {
    gint idx = g_array_index (r.fds, gint, i);
    if (idx < 0 || (guint) idx >= gst_buffer_n_memory (sendbuf) ||
        !gst_is_fd_memory (gst_buffer_peek_memory (sendbuf, idx))) {
      GST_ELEMENT_ERROR (bsink, STREAM, FAILED, ("Bad memory index %d", idx), (NULL));
      ret = GST_FLOW_ERROR;
      goto done;
    }
    fds[n_fds++] = gst_fd_memory_get_fd (gst_buffer_peek_memory (sendbuf, idx));
  }

encoded:
  /* in the table before it is sent: the release may come back before send() returns. A message
   * that shares no memory by fd, sent or cached (empty, or all inline), is not held: no release
   * comes back for it. */
  for (i = 0; i < gst_buffer_n_memory (sendbuf); i++)
    shares |= gst_is_fd_memory (gst_buffer_peek_memory (sendbuf, i));
  /* counted as sent here too, under the same lock (it is taken once per receiver and buffer on this
   * side; the release thread takes it for each release): undone below if it does not go out */
  g_mutex_lock (&inst->lock);
  if (shares) {
    g_hash_table_insert (peer->inflight, g_memdup2 (&id, sizeof id), gst_buffer_ref (sendbuf));
    if (peer->vendor)
      vendor_hold (peer, buf_ids, n_ids, id);
  }
  count_sent (inst, peer, n_fds, shares, 1);
  g_mutex_unlock (&inst->lock);
  g_mutex_lock (&conn->lock);
  if (conn->dead || (peer->unixfd && !peer->caps_sent && inst->caps_string &&
          qs_stream_send (conn->fd, QS_UNIXFD_CAPS, (const guint8 *) inst->caps_string,
              strlen (inst->caps_string) + 1, NULL, 0) < 0) ||
      (peer->unixfd ? qs_stream_send (conn->fd, QS_UNIXFD_NEW_BUFFER, g_bytes_get_data (r.data, NULL),
              g_bytes_get_size (r.data), fds, n_fds) :
          qs_socket_send (conn->fd, g_bytes_get_data (r.data, NULL), g_bytes_get_size (r.data), fds, n_fds)) < 0) {
    gint err = errno;
    gpointer key = NULL;
    GstBuffer *held = NULL;
    g_mutex_unlock (&conn->lock);
    g_mutex_lock (&inst->lock);
    g_hash_table_steal_extended (peer->inflight, &id, &key, (gpointer *) & held);
    if (peer->vendor_left)
      g_hash_table_remove (peer->vendor_left, &id);
    count_sent (inst, peer, n_fds, shares, -1);
    inst->n_dropped++;
    g_mutex_unlock (&inst->lock);
    g_free (key);
    if (held)
      gst_buffer_unref (held);
    GST_INFO_OBJECT (bsink, "send to receiver %u failed (%s): it is gone", peer->number, g_strerror (err));
    qs_conn_kill (conn);        /* the release thread sees it and reports */
  } else {
    g_mutex_unlock (&conn->lock);
    g_array_set_size (peer->forget, 0); /* they reached the receiver */
    if (!peer->vendor)
      peer->caps_sent = TRUE;
    sent = TRUE;
    GST_LOG_OBJECT (bsink, "sent buffer %" G_GUINT64_FORMAT " with %u fds", id, n_fds);
  }

done:
  /* the fds of a message that did not go out are not cached at the receiver: start afresh */
  if (!sent)
    cache_reset (peer);
  g_free (desc);
  gst_buffer_unref (sendbuf);
  qs_js_result_clear (&r);
  return ret;
}

static GstFlowReturn
send_buffer (GstBaseSink * bsink, QsInstance * inst, GstBuffer * buf)
{
  GPtrArray *peers = peers_new ();
  GstBuffer *shareable[SHAREABLE_KINDS] = { NULL };
  GstFlowReturn ret = GST_FLOW_OK;
  guint64 id = 0;
  guint i;

  /* the receivers to send to and the buffer's id, taken together (mode=listen: as it looks for one) */
  switch (listening (inst) ? any_receiver (inst, peers, &id) : ensure_connected (inst)) {
    case CONNECTED:
      if (!listening (inst))
        peers_snapshot (inst, peers, &id);
      break;
    case NOT_CONNECTED:
      g_mutex_lock (&inst->lock);
      inst->n_dropped++;
      g_mutex_unlock (&inst->lock);
      GST_LOG_OBJECT (bsink, "no receiver: dropped %" GST_PTR_FORMAT, buf);
      break;
    case FLUSHING:
      ret = GST_FLOW_FLUSHING;
      break;
    case FAILED:
      ret = GST_FLOW_ERROR;
      break;
  }

  for (i = 0; i < peers->len && ret == GST_FLOW_OK; i++)
    ret = send_to_peer (bsink, inst, g_ptr_array_index (peers, i), buf, id, shareable);
  for (i = 0; i < SHAREABLE_KINDS; i++)
    gst_clear_buffer (&shareable[i]);
  g_ptr_array_unref (peers);
  return ret;
}

/* The preroll buffer is sent in PAUSED already, and not sent again when it is rendered: a receiver
 * in the same pipeline (or one waiting for its first frame to preroll) could otherwise never get
 * the data it needs for the pipeline to reach PLAYING. */
static GstFlowReturn
qs_preroll (GstBaseSink * bsink, GstBuffer * buf)
{
  QsInstance *inst = qs_instance_get (bsink);
  GstFlowReturn ret = send_buffer (bsink, inst, buf);
  if (ret == GST_FLOW_OK)
    gst_buffer_replace (&inst->prerolled, buf);
  return ret;
}

static GstFlowReturn
qs_render (GstBaseSink * bsink, GstBuffer * buf)
{
  QsInstance *inst = qs_instance_get (bsink);
  if (inst->prerolled) {
    gboolean same = inst->prerolled == buf;
    gst_buffer_replace (&inst->prerolled, NULL);
    if (same)
      return GST_FLOW_OK;
  }
  return send_buffer (bsink, inst, buf);
}

static gboolean
qs_sink_start (GstBaseSink * bsink)
{
  QsInstance *inst = qs_instance_get (bsink);
  QsJsResult r = { 0 };
  gboolean ok;

  ok = qs_js_call (inst, QS_HOOK_START, NULL, 0, NULL, 0, NULL, &r);
  if (!ok || r.error || !r.path) {
    GST_ELEMENT_ERROR (bsink, RESOURCE, SETTINGS, ("%s", r.error ? r.error : "no socket path"),
        (NULL));
    qs_js_result_clear (&r);
    return FALSE;
  }
  g_free (inst->path);
  inst->path = g_strdup (r.path);
  if (r.max_inflight > 0)
    inst->max_inflight = r.max_inflight;
  inst->skip_slow = r.skip_slow;
  inst->unixfd = r.unixfd;
  if (listening (inst))
    qs_instance_start_acceptor (inst, "qtisocketsink-listen", listener_main); /* mode=listen: the element bound the socket */
  inst->warned_no_receiver = FALSE;
  inst->next_id = 0;
  qs_js_result_clear (&r);
  qs_amend_tee (inst);
  return TRUE;
}

static gboolean
qs_sink_stop (GstBaseSink * bsink)
{
  QsInstance *inst = qs_instance_get (bsink);
  gst_buffer_replace (&inst->prerolled, NULL);
  qs_forget_tee (inst);
  stop_listener (inst);
  disconnect (inst);
  stop_releases (inst);
  qs_instance_stop (inst);
  return TRUE;
}

static gboolean
qs_sink_set_caps (GstBaseSink * bsink, GstCaps * caps)
{
  QsInstance *inst = qs_instance_get (bsink);
  QsJsResult r = { 0 };
  gchar *s = gst_caps_to_string (caps);
  gboolean ok;

  inst->has_vinfo = gst_video_info_from_caps (&inst->vinfo, caps);
  inst->caps_text = gst_structure_has_name (gst_caps_get_structure (caps, 0), "text/x-raw");
  ok = qs_js_call (inst, QS_HOOK_SET_CAPS, NULL, 0, s, 0, NULL, &r) && !r.error;
  if (r.error)
    GST_ELEMENT_ERROR (bsink, CORE, NEGOTIATION, ("%s", r.error), (NULL));
  /* the CAPS item of our wire, sent with the next buffer (upstream's unixfd wire: the text, before
   * it); what the vendor's wire makes of them */
  g_free (inst->caps_string);
  inst->caps_string = g_strdup (s);
  g_clear_pointer (&inst->caps_item, g_bytes_unref);
  inst->caps_item = r.data ? g_bytes_ref (r.data) : NULL;
  g_mutex_lock (&inst->lock);
  for (guint i = 0; i < inst->peers->len; i++)
    ((QsPeer *) g_ptr_array_index (inst->peers, i))->caps_sent = FALSE;
  g_mutex_unlock (&inst->lock);
  inst->vendor_media = QS_VENDOR_MEDIA_NONE;
  g_clear_pointer (&inst->vendor_dims, g_array_unref);
  if (r.vendor && r.vendor->len >= 3) {
    inst->vendor_media = g_array_index (r.vendor, gint, 0);
    inst->vendor_tensor_type = g_array_index (r.vendor, gint, 1);
    inst->vendor_tensors = g_array_index (r.vendor, gint, 2);
    inst->vendor_dims = g_array_new (FALSE, FALSE, sizeof (gint));
    g_array_append_vals (inst->vendor_dims, r.vendor->data + 3 * sizeof (gint), r.vendor->len - 3);
  }
  g_free (s);
  qs_js_result_clear (&r);
  return ok;
}

/* End-of-stream sent: give the receivers a moment (bounded, interruptible) to take the last buffers
 * and return them. Closing a socket whose releases are still unread makes the receiver's next read
 * fail (ECONNRESET): it would lose the tail of the stream and its end. */
#define EOS_DRAIN_MS 2000

static void
drain (QsInstance * inst)
{
  gint64 deadline = g_get_monotonic_time () + EOS_DRAIN_MS * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&inst->lock);
  while (!g_atomic_int_get (&inst->flushing)) {
    gboolean held = FALSE;
    for (guint i = 0; i < inst->peers->len && !held; i++) {
      QsPeer *p = g_ptr_array_index (inst->peers, i);
      held = !p->conn->dead && g_hash_table_size (p->inflight) > 0;
    }
    if (!held)
      break;
    inst->release_waiters++;
    held = g_cond_wait_until (&inst->cond, &inst->lock, deadline);
    inst->release_waiters--;
    if (!held)
      break;                    /* the deadline passed */
  }
  g_mutex_unlock (&inst->lock);
}

static gboolean
qs_sink_event (GstBaseSink * bsink, GstEvent * event)
{
  QsInstance *inst = qs_instance_get (bsink);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    GPtrArray *peers = peers_new ();
    peers_snapshot (inst, peers, NULL);
    QsJsResult r = { 0 };
    /* our wire's EOS is the element's; upstream's unixfd wire's is a bare command */
    if (peers->len && (inst->unixfd || (qs_js_call (inst, QS_HOOK_EOS, NULL, 0, NULL, 0, &inst->flushing, &r)
                && r.data))) {
      for (guint i = 0; i < peers->len; i++) {
        QsConn *conn = ((QsPeer *) g_ptr_array_index (peers, i))->conn;
        g_mutex_lock (&conn->lock);
        if (!conn->dead && (conn->stream ? qs_stream_send (conn->fd, QS_UNIXFD_EOS, NULL, 0, NULL, 0) :
                qs_socket_send (conn->fd, g_bytes_get_data (r.data, NULL), g_bytes_get_size (r.data), NULL, 0)) < 0)
          GST_INFO_OBJECT (bsink, "could not send EOS: %s", g_strerror (errno));
        g_mutex_unlock (&conn->lock);
      }
    }
    qs_js_result_clear (&r);
    if (peers->len)
      drain (inst);
    g_ptr_array_unref (peers);
  }
  return inst->klass->parent_sink_event (bsink, event);
}

static gboolean
qs_sink_propose_allocation (GstBaseSink * bsink, GstQuery * query)
{
  return qs_propose_allocation (qs_instance_get (bsink), query);
}

static gboolean
qs_sink_unlock (GstBaseSink * bsink)
{
  qs_instance_unlock (qs_instance_get (bsink));
  return TRUE;
}

static gboolean
qs_sink_unlock_stop (GstBaseSink * bsink)
{
  QsInstance *inst = qs_instance_get (bsink);
  gst_buffer_replace (&inst->prerolled, NULL);  /* a flush: the next preroll buffer is new */
  qs_instance_unlock_stop (inst);
  return TRUE;
}

/* GstBaseSink's current counters */
void
qs_sink_base_stats (QsInstance * inst, guint64 * late, guint64 * rendered, gdouble * rate)
{
  GstStructure *base = gst_base_sink_get_stats (GST_BASE_SINK (inst->element));
  gst_structure_get (base, "dropped", G_TYPE_UINT64, late, "rendered", G_TYPE_UINT64, rendered,
      "average-rate", G_TYPE_DOUBLE, rate, NULL);
  gst_structure_free (base);
}

/* GstBaseSink resets its counters when it leaves PLAYING: ours keep counting */
static GstStateChangeReturn
qs_sink_change_state (GstElement * element, GstStateChange transition)
{
  QsInstance *inst = qs_instance_get (element);
  GstStateChangeReturn ret;
  if (transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED) {
    guint64 late = 0, rendered = 0;
    gdouble rate;
    qs_sink_base_stats (inst, &late, &rendered, &rate);
    g_mutex_lock (&inst->lock);
    inst->base_late_before += late;
    inst->base_rendered_before += rendered;
    g_mutex_unlock (&inst->lock);
  }
  ret = inst->klass->parent_change_state (element, transition);
  /* stopped: the memfds kept for reuse go too (upstream's pool has been freed by now) */
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    qs_memfd_trim ();
  return ret;
}

void
qs_sink_install (GstBaseSinkClass * klass, QsClass * k)
{
  GstElementClass *eclass = GST_ELEMENT_CLASS (klass);
  klass->start = qs_sink_start;
  klass->stop = qs_sink_stop;
  klass->set_caps = qs_sink_set_caps;
  klass->render = qs_render;
  klass->preroll = qs_preroll;
  klass->propose_allocation = qs_sink_propose_allocation;
  klass->unlock = qs_sink_unlock;
  klass->unlock_stop = qs_sink_unlock_stop;
  k->parent_sink_event = klass->event;
  klass->event = qs_sink_event;
  k->parent_change_state = eclass->change_state;
  eclass->change_state = qs_sink_change_state;
}
