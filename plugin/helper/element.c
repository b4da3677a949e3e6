/* Element classes made by node-gtk's registerClass, completed natively: metadata, pad templates,
 * properties, per-instance state and the vfunc trampolines of each role (sink.c, src.c). */
#include "qtisocket.h"

#include <stdlib.h>

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static GQuark instance_quark;
static GHashTable *classes;     /* GType -> QsClass */
static GMutex classes_lock;

QsClass *
qs_class_get (GType type)
{
  QsClass *k = NULL;
  g_mutex_lock (&classes_lock);
  while (type && !k) {
    k = classes ? g_hash_table_lookup (classes, GSIZE_TO_POINTER (type)) : NULL;
    type = g_type_parent (type);
  }
  g_mutex_unlock (&classes_lock);
  return k;
}

QsInstance *
qs_instance_get (gpointer element)
{
  return g_object_get_qdata (G_OBJECT (element), instance_quark);
}

const GValue *
qs_instance_prop (QsInstance * inst, const gchar * name)
{
  guint i;
  for (i = 0; i < inst->klass->n_props; i++)
    if (g_str_equal (inst->klass->props[i]->name, name))
      return &inst->props[i];
  return NULL;
}

static void
instance_free (gpointer data)
{
  QsInstance *inst = data;
  guint i;
  if (inst->klass->role == QS_ROLE_SINK)
    qs_sink_instance_clear (inst);
  else
    qs_src_instance_clear (inst);
  qs_js_post (inst, QS_HOOK_FINALIZE, NULL, 0, 0);
  for (i = 0; i < inst->klass->n_props; i++)
    g_value_unset (&inst->props[i]);
  g_free (inst->props);
  if (inst->wake_fd >= 0)
    close (inst->wake_fd);
  g_free (inst->path);
  g_mutex_clear (&inst->lock);
  g_mutex_clear (&inst->rel_lock);
  g_cond_clear (&inst->cond);
  g_free (inst);
}

static void
qs_constructed (GObject * object)
{
  QsClass *k = qs_class_get (G_OBJECT_TYPE (object));
  QsInstance *inst = g_new0 (QsInstance, 1);
  guint i;

  if (k->parent_constructed)
    k->parent_constructed (object);

  inst->element = GST_ELEMENT (object);
  inst->klass = k;
  inst->listen_fd = -1;
  inst->pending_fd = -1;
  inst->acceptor_stop_fd = -1;
  inst->acceptor_wake_fd = -1;
  inst->conn_ready_fd = -1;
  inst->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  g_mutex_init (&inst->lock);
  g_mutex_init (&inst->rel_lock);
  g_cond_init (&inst->cond);
  inst->props = g_new0 (GValue, k->n_props);
  for (i = 0; i < k->n_props; i++) {
    g_value_init (&inst->props[i], k->props[i]->value_type);
    g_param_value_set_default (k->props[i], &inst->props[i]);
  }
  if (k->role == QS_ROLE_SINK) {
    qs_sink_instance_init (inst);
  } else {
    gst_base_src_set_live (GST_BASE_SRC (object), TRUE);
    gst_base_src_set_format (GST_BASE_SRC (object), GST_FORMAT_TIME);
  }
  g_object_set_qdata_full (object, instance_quark, inst, instance_free);
}

static void
qs_set_property (GObject * object, guint prop_id, const GValue * value, GParamSpec * pspec)
{
  QsInstance *inst = qs_instance_get (object);
  QsJsResult r = { 0 };
  gchar *repr;

  if (!inst || prop_id == 0 || prop_id > inst->klass->n_props) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    return;
  }
  if ((pspec->flags & GST_PARAM_MUTABLE_READY) && GST_STATE (object) > GST_STATE_READY) {
    g_warning ("%s: property '%s' can only be changed in the NULL or READY state",
        GST_OBJECT_NAME (object), pspec->name);
    return;
  }
  /* the TypeScript element validates every change (e.g. the socket path) */
  if (G_VALUE_HOLDS_STRING (value))
    repr = g_value_dup_string (value);
  else
    repr = g_strdup_value_contents (value);
  if (!qs_js_call (inst, QS_HOOK_SET_PROPERTY, (const guint8 *) (repr ? repr : ""),
          repr ? strlen (repr) : 0, pspec->name, G_VALUE_HOLDS_STRING (value) && !repr, NULL,
          &r) || r.error) {
    g_warning ("%s: %s", GST_OBJECT_NAME (object), r.error ? r.error : "invalid value");
  } else {
    GST_OBJECT_LOCK (object);
    g_value_copy (value, &inst->props[prop_id - 1]);
    GST_OBJECT_UNLOCK (object);
  }
  g_free (repr);
  qs_js_result_clear (&r);
}

static void
qs_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  QsInstance *inst = qs_instance_get (object);
  if (!inst || prop_id == 0 || prop_id > inst->klass->n_props) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    return;
  }
  if (G_IS_PARAM_SPEC_BOXED (pspec) && pspec->value_type == GST_TYPE_STRUCTURE &&
      g_str_equal (pspec->name, "stats")) {
    g_value_take_boxed (value, qs_instance_stats (inst));
    return;
  }
  GST_OBJECT_LOCK (object);
  g_value_copy (&inst->props[prop_id - 1], value);
  GST_OBJECT_UNLOCK (object);
}

gboolean
qs_class_define (napi_env env, GType type, QsRole role, const gchar * factory,
    napi_value dispatch, GPtrArray * pspecs, gchar ** error)
{
  GObjectClass *gclass;
  QsClass *k;
  guint i;

  if (!instance_quark)
    instance_quark = g_quark_from_static_string ("qtisocket-instance");
  if (role == QS_ROLE_SINK && !g_type_is_a (type, GST_TYPE_BASE_SINK)) {
    *error = g_strdup_printf ("%s is not a GstBaseSink", g_type_name (type));
    return FALSE;
  }
  if (role == QS_ROLE_SRC && !g_type_is_a (type, GST_TYPE_PUSH_SRC)) {
    *error = g_strdup_printf ("%s is not a GstPushSrc", g_type_name (type));
    return FALSE;
  }

  k = g_new0 (QsClass, 1);
  k->type = type;
  k->role = role;
  k->factory = g_strdup (factory);
  k->env = env;
  if (napi_create_reference (env, dispatch, 1, &k->dispatch) != napi_ok ||
      !qs_js_make_dispatch (env, dispatch, factory, &k->tsfn)) {
    *error = g_strdup ("cannot create the JS dispatch function");
    return FALSE;
  }

  gclass = g_type_class_ref (type);
  k->parent_constructed = gclass->constructed;
  gclass->constructed = qs_constructed;
  gclass->set_property = qs_set_property;
  gclass->get_property = qs_get_property;
  k->n_props = pspecs->len;
  k->props = g_new0 (GParamSpec *, pspecs->len);
  for (i = 0; i < pspecs->len; i++) {
    k->props[i] = g_param_spec_ref_sink (g_ptr_array_index (pspecs, i));
    g_object_class_install_property (gclass, i + 1, k->props[i]);
  }
  /* the peer (on the sink: its receiver; on the src: its sender) greeted us / went away */
  k->signal_connected = g_signal_new ("client-connected", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);
  k->signal_disconnected = g_signal_new ("client-disconnected", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL,
      NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  if (role == QS_ROLE_SINK)
    qs_sink_install (GST_BASE_SINK_CLASS (gclass), k);
  else
    qs_src_install (GST_PUSH_SRC_CLASS (gclass), k);

  g_mutex_lock (&classes_lock);
  if (!classes)
    classes = g_hash_table_new (NULL, NULL);
  g_hash_table_insert (classes, GSIZE_TO_POINTER (type), k);
  g_mutex_unlock (&classes_lock);
  return TRUE;
}

gint
qs_wait_fd (QsInstance * inst, gint fd, gint timeout_ms)
{
  /* poll() ignores a negative fd: with fd < 0 this only sleeps, interruptibly */
  struct pollfd p[2] = { {fd, POLLIN, 0}, {inst->wake_fd, POLLIN, 0} };
  gint n;
  do {
    if (g_atomic_int_get (&inst->flushing))
      return 0;
    n = poll (p, 2, timeout_ms);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  if (p[1].revents || g_atomic_int_get (&inst->flushing))
    return 0;
  return p[0].revents ? 1 : 0;
}

void
qs_post_result_messages (QsInstance * inst, const QsJsResult * r)
{
  if (r->warning)
    GST_ELEMENT_WARNING (inst->element, RESOURCE, FAILED, ("%s", r->warning), (NULL));
  if (r->error)
    GST_ELEMENT_ERROR (inst->element, RESOURCE, FAILED, ("%s", r->error), (NULL));
}

void
qs_notify_connected (QsInstance * inst, volatile gint * flag, const gchar * peer)
{
  g_atomic_int_set (flag, 1);
  GST_INFO_OBJECT (inst->element, "client connected on %s: %s", inst->path, peer);
  gst_element_post_message (inst->element, gst_message_new_element (GST_OBJECT (inst->element),
          gst_structure_new ("GstQtiSocketConnected", "socket", G_TYPE_STRING, inst->path,
              "peer", G_TYPE_STRING, peer, NULL)));
  g_signal_emit (inst->element, inst->klass->signal_connected, 0, peer);
}

void
qs_notify_disconnected (QsInstance * inst, volatile gint * flag, const gchar * reason, guint held)
{
  if (!g_atomic_int_compare_and_exchange (flag, 1, 0))
    return;
  GST_INFO_OBJECT (inst->element, "client disconnected from %s: %s", inst->path, reason);
  gst_element_post_message (inst->element, gst_message_new_element (GST_OBJECT (inst->element),
          gst_structure_new ("GstQtiSocketDisconnected", "socket", G_TYPE_STRING, inst->path,
              "reason", G_TYPE_STRING, reason, "held", G_TYPE_UINT, held, NULL)));
  g_signal_emit (inst->element, inst->klass->signal_disconnected, 0, reason);
}

/* unlock: raise the flushing flag, wake the native waits and the JS waits of this element */
void
qs_instance_unlock (QsInstance * inst)
{
  guint64 one = 1;
  g_atomic_int_set (&inst->flushing, 1);
  if (write (inst->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
    GST_WARNING_OBJECT (inst->element, "cannot wake: %s", g_strerror (errno));
  g_mutex_lock (&inst->lock);
  g_cond_broadcast (&inst->cond);
  g_mutex_unlock (&inst->lock);
  qs_js_wake_waiters ();
}

/* Binds the socket for a listening element (the src; the sink with mode=listen): the `perms`
 * property, the stale-socket takeover (channel.c); the path is kept to remove the file at the end */
gboolean
qs_instance_listen (QsInstance * inst, const gchar * path, gboolean stream, gchar ** error)
{
  const GValue *perms = qs_instance_prop (inst, "perms");
  gint fd;
  qs_instance_unlisten (inst);
  fd = qs_socket_listen (path, stream, perms && G_VALUE_HOLDS_UINT (perms) ? g_value_get_uint (perms) : 0600,
      &inst->listen_dev, &inst->listen_ino, error);
  if (fd < 0)
    return FALSE;
  inst->listen_fd = fd;
  g_free (inst->path);
  inst->path = g_strdup (path);
  return TRUE;
}

void
qs_instance_unlisten (QsInstance * inst)
{
  struct stat st;
  if (inst->listen_fd < 0)
    return;
  close (inst->listen_fd);
  inst->listen_fd = -1;
  /* remove the socket file only if it is still ours */
  if (inst->path && stat (inst->path, &st) == 0 && st.st_dev == inst->listen_dev && st.st_ino == inst->listen_ino)
    unlink (inst->path);
}

/* The thread that accepts peers (or, the src with mode=connect, connects): the eventfds that stop it
 * and wake it, then the thread */
void
qs_instance_start_acceptor (QsInstance * inst, const gchar * name, GThreadFunc func)
{
  inst->acceptor_stop_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  inst->acceptor_wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  inst->acceptor_stopping = 0;
  inst->acceptor = g_thread_new (name, func, inst);
}

/* Stops and joins it (a JS call it waits on is given up), and closes its eventfds */
void
qs_instance_stop_acceptor (QsInstance * inst)
{
  guint64 one = 1;
  if (inst->acceptor) {
    g_atomic_int_set (&inst->acceptor_stopping, 1);
    if (write (inst->acceptor_stop_fd, &one, sizeof one) < 0)
      GST_WARNING_OBJECT (inst->element, "cannot stop the acceptor: %s", g_strerror (errno));
    qs_js_wake_waiters ();
    g_thread_join (inst->acceptor);
    inst->acceptor = NULL;
  }
  if (inst->acceptor_stop_fd >= 0)
    close (inst->acceptor_stop_fd);
  if (inst->acceptor_wake_fd >= 0)
    close (inst->acceptor_wake_fd);
  inst->acceptor_stop_fd = inst->acceptor_wake_fd = -1;
}

void
qs_instance_unlock_stop (QsInstance * inst)
{
  guint64 v;
  while (read (inst->wake_fd, &v, sizeof v) > 0);
  g_atomic_int_set (&inst->flushing, 0);
}

/* ---- connections ---------------------------------------------------------------------------- */
QsConn *
qs_conn_new (gint fd)
{
  static guint64 serials;
  QsConn *c = g_new0 (QsConn, 1);
  c->refcount = 1;
  c->serial = __atomic_add_fetch (&serials, 1, __ATOMIC_RELAXED);
  c->fd = fd;
  g_mutex_init (&c->lock);
  return c;
}

QsConn *
qs_conn_ref (QsConn * c)
{
  g_atomic_int_inc (&c->refcount);
  return c;
}

void
qs_conn_kill (QsConn * c)
{
  g_mutex_lock (&c->lock);
  if (!c->dead) {
    c->dead = TRUE;
    shutdown (c->fd, SHUT_RDWR);
  }
  g_mutex_unlock (&c->lock);
}

void
qs_conn_unref (QsConn * c)
{
  if (!g_atomic_int_dec_and_test (&c->refcount))
    return;
  if (c->fd >= 0)
    close (c->fd);
  if (c->cache)
    g_hash_table_unref (c->cache);
  if (c->caps)
    g_bytes_unref (c->caps);
  g_mutex_clear (&c->lock);
  g_free (c);
}

/* at stop: the counters into the log, then the TypeScript element's stop */
void
qs_instance_stop (QsInstance * inst)
{
  QsJsResult r = { 0 };
  GstStructure *stats = qs_instance_stats (inst);
  GST_CAT_INFO_OBJECT (inst->klass->role == QS_ROLE_SINK ? qs_sink_debug : qs_src_debug,
      inst->element, "stopped: %" GST_PTR_FORMAT, stats);
  gst_structure_free (stats);
  qs_js_call (inst, QS_HOOK_STOP, NULL, 0, NULL, 0, NULL, &r);
  qs_js_result_clear (&r);
}

static gint
compare_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

GstStructure *
qs_instance_stats (QsInstance * inst)
{
  GstStructure *s;
  guint inflight;
  guint64 late = 0, rendered = 0;
  gdouble rate = 0;

  /* GstBaseSink's own counters (buffers it dropped as too late, buffers rendered, average rate),
   * added to what they were before GstBaseSink last reset them */
  if (inst->klass->role == QS_ROLE_SINK)
    qs_sink_base_stats (inst, &late, &rendered, &rate);
  g_mutex_lock (&inst->lock);
  inflight = 0;
  for (guint i = 0; inst->peers && i < inst->peers->len; i++)
    inflight += g_hash_table_size (((QsPeer *) g_ptr_array_index (inst->peers, i))->inflight);
  if (inst->klass->role == QS_ROLE_SINK) {
    s = gst_structure_new ("qtisocketsink-stats",
        "sent", G_TYPE_UINT64, inst->n_sent,
        "returned", G_TYPE_UINT64, inst->n_released,
        "in-flight", G_TYPE_UINT, inflight,
        "dropped", G_TYPE_UINT64, inst->n_dropped + inst->base_late_before + late,
        "late", G_TYPE_UINT64, inst->base_late_before + late,
        "rendered", G_TYPE_UINT64, inst->base_rendered_before + rendered,
        "average-rate", G_TYPE_DOUBLE, rate,
        "copied", G_TYPE_UINT64, inst->n_copied,
        "inlined", G_TYPE_UINT64, inst->n_inlined,
        "bytes-copied", G_TYPE_UINT64, inst->n_bytes_copied,
        "connections", G_TYPE_UINT64, inst->n_connections,
        "fds-sent", G_TYPE_UINT64, inst->n_fds_sent,
        "js-calls", G_TYPE_UINT64, inst->n_js_calls,
        "fast-path", G_TYPE_UINT64, inst->n_native,
        "skipped", G_TYPE_UINT64, inst->n_skipped,
        "receivers", G_TYPE_UINT, inst->peers ? inst->peers->len : 0, NULL);
    /* each receiver served now: its own counters */
    for (guint i = 0; inst->peers && i < inst->peers->len; i++) {
      QsPeer *p = g_ptr_array_index (inst->peers, i);
      gchar *name = g_strdup_printf ("receiver-%u", p->number);
      gchar *v = g_strdup_printf ("sent %" G_GUINT64_FORMAT ", returned %" G_GUINT64_FORMAT ", in-flight %u, skipped %"
          G_GUINT64_FORMAT ", fds-sent %" G_GUINT64_FORMAT ", peer %s", p->n_sent, p->n_released,
          g_hash_table_size (p->inflight), p->n_skipped, p->n_fds_sent, p->name);
      gst_structure_set (s, name, G_TYPE_STRING, v, NULL);
      g_free (name);
      g_free (v);
    }
  } else {
    s = gst_structure_new ("qtisocketsrc-stats",
        "received", G_TYPE_UINT64, inst->n_received,
        "returned", G_TYPE_UINT64,
        inst->n_released_before + (inst->conn ? inst->conn->n_released : 0),
        "connections", G_TYPE_UINT64, inst->n_connections,
        "fds-received", G_TYPE_UINT64, inst->n_fds_received,
        "copied", G_TYPE_UINT64, inst->n_copied,
        "js-calls", G_TYPE_UINT64, inst->n_js_calls,
        "fast-path", G_TYPE_UINT64, inst->n_native, NULL);
    if (inst->n_latency > 0) {
      /* percentiles of the last samples: meaningful when the sender syncs (sends buffers on time) */
      guint n = MIN (inst->n_latency, QS_LATENCY_SAMPLES);
      gint64 *sorted = g_memdup2 (inst->latency, n * sizeof (gint64));
      qsort (sorted, n, sizeof (gint64), compare_gint64);
      gst_structure_set (s, "latency-p50", G_TYPE_INT64, sorted[n / 2],
          "latency-p99", G_TYPE_INT64, sorted[MIN (n - 1, n * 99 / 100)],
          "latency-samples", G_TYPE_UINT, n, NULL);
      g_free (sorted);
    }
  }
  g_mutex_unlock (&inst->lock);
  return s;
}

guint64
qs_monotonic_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64) ts.tv_sec * GST_SECOND + ts.tv_nsec;
}

GstClockTime
qs_base_monotonic (GstElement * element)
{
  GstClock *clock;
  GstClockTime base, result = GST_CLOCK_TIME_NONE;
  gint64 offset = 0;
  gint type = -1;
  GstState state, next;

  GST_OBJECT_LOCK (element);
  state = GST_STATE (element);
  next = GST_STATE_NEXT (element);
  GST_OBJECT_UNLOCK (element);
  /* the base time is decided when going to PLAYING (before a sink with sync=false renders its second
   * buffer, which it may do while the state still reads PAUSED) */
  if (state != GST_STATE_PLAYING && next != GST_STATE_PLAYING)
    return GST_CLOCK_TIME_NONE;
  clock = gst_element_get_clock (element);
  if (!clock)
    return GST_CLOCK_TIME_NONE;
  base = gst_element_get_base_time (element);
  /* the usual pipeline clock is CLOCK_MONOTONIC itself: no offset to measure (and no jitter) */
  if (GST_IS_SYSTEM_CLOCK (clock))
    g_object_get (clock, "clock-type", &type, NULL);
  if (type != GST_CLOCK_TYPE_MONOTONIC)
    offset = (gint64) qs_monotonic_now () - (gint64) gst_clock_get_time (clock);
  if ((gint64) base + offset >= 0)
    result = base + offset;
  gst_object_unref (clock);
  return result;
}

/* Before PLAYING no running time sits on the clock yet, but the buffer is sent now: placing it at
 * that instant (as upstream's unixfd does) keeps the receiver's stamps in order whatever its own
 * delay, since the first buffer rendered in PLAYING is due at base + rt, after PLAYING began, after
 * this. (Stamping it on arrival, as a base of all ones asks, put a slow receiver's preroll frame
 * after the next one.) */
GstClockTime
qs_sent_base (GstClockTime base, GstClockTime rt)
{
  guint64 now;

  if (GST_CLOCK_TIME_IS_VALID (base) || !GST_CLOCK_TIME_IS_VALID (rt))
    return base;
  now = qs_monotonic_now ();
  return now > rt ? now - rt : GST_CLOCK_TIME_NONE;
}
