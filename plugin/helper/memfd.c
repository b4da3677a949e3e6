/* Shareable memory for upstream: a GstFdAllocator subclass whose memories are sealed memfds, mapped
 * once and recycled, and the buffer pool the sink proposes in its allocation answer, so that upstream
 * (e.g. videotestsrc, a decoder in system memory) draws straight into memory the receiver can map. */
#include "qtisocket.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
  GstFdAllocator parent;
} QsMemfdAllocator;

typedef struct {
  GstFdAllocatorClass parent_class;
} QsMemfdAllocatorClass;

GType qs_memfd_allocator_get_type (void);
G_DEFINE_TYPE (QsMemfdAllocator, qs_memfd_allocator, GST_TYPE_FD_ALLOCATOR);

/* A sealed memfd with its one read-write mapping, which lives as long as the fd. A memory made on it
 * holds it (qdata); when the memory is freed, the memfd goes to a bounded free list, and the next
 * allocation of that size takes it back: the same fd (the fd cache names it by the same id, no fd
 * crosses again), already mapped and faulted in. Copies (videorate's, a sink's own copy fallback)
 * and pools made again after a caps change reuse memfds instead of making new ones. */
typedef struct {
  gint fd;
  gsize size;
  guint8 *map;
} QsMemfd;

#define QS_MEMFD_FREE_MAX 32
#define QS_MEMFD_FREE_MAX_BYTES ((gsize) 128 << 20)

static GMutex free_lock;
static GQueue free_list = G_QUEUE_INIT;        /* QsMemfd, the most recently freed first */
static gsize free_bytes;
static GQuark memfd_quark;

static void
memfd_destroy (QsMemfd * m)
{
  munmap (m->map, m->size);
  close (m->fd);
  g_free (m);
}

/* the memory on it was freed: keep the memfd for a later allocation of its size, within bounds */
static void
memfd_release (gpointer data)
{
  QsMemfd *m = data;
  g_mutex_lock (&free_lock);
  if (free_list.length < QS_MEMFD_FREE_MAX && free_bytes + m->size <= QS_MEMFD_FREE_MAX_BYTES) {
    g_queue_push_head (&free_list, m);
    free_bytes += m->size;
    m = NULL;
  }
  g_mutex_unlock (&free_lock);
  if (m)
    memfd_destroy (m);
}

void
qs_memfd_trim (void)
{
  GQueue all = G_QUEUE_INIT;
  QsMemfd *m;
  g_mutex_lock (&free_lock);
  all = free_list;
  g_queue_init (&free_list);
  free_bytes = 0;
  g_mutex_unlock (&free_lock);
  while ((m = g_queue_pop_head (&all)))
    memfd_destroy (m);
}

/* a memfd of size bytes (a multiple of the page size): a freed one of that size, or a new one */
static QsMemfd *
memfd_take (gsize size)
{
  QsMemfd *m = NULL;
  GList *l;
  gint fd;
  gpointer map;

  g_mutex_lock (&free_lock);
  for (l = free_list.head; l; l = l->next) {
    if (((QsMemfd *) l->data)->size == size) {
      m = l->data;
      g_queue_delete_link (&free_list, l);
      free_bytes -= size;
      break;
    }
  }
  g_mutex_unlock (&free_lock);
  if (m)
    return m;

  fd = memfd_create ("qtisocket", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    GST_ERROR ("memfd_create: %s", g_strerror (errno));
    return NULL;
  }
  if (ftruncate (fd, size) < 0) {
    GST_ERROR ("ftruncate(%" G_GSIZE_FORMAT "): %s", size, g_strerror (errno));
    close (fd);
    return NULL;
  }
  /* receivers map the whole size: it must never shrink under them (SIGBUS) */
  if (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
    GST_WARNING ("cannot seal the memfd: %s", g_strerror (errno));
  map = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    GST_ERROR ("mmap(%" G_GSIZE_FORMAT "): %s", size, g_strerror (errno));
    close (fd);
    return NULL;
  }
  m = g_new (QsMemfd, 1);
  m->fd = fd;
  m->size = size;
  m->map = map;
  return m;
}

static GstMemory *
qs_memfd_allocator_alloc (GstAllocator * allocator, gsize size, GstAllocationParams * params)
{
  gsize page = 4096;
  gsize maxsize = (size + params->prefix + params->padding + page - 1) / page * page;
  QsMemfd *m = memfd_take (MAX (maxsize, page));
  GstMemory *mem;

  if (!m)
    return NULL;
  /* the memfd keeps its fd and mapping: the memory holds the memfd */
  mem = gst_fd_allocator_alloc (allocator, m->fd, m->size, GST_FD_MEMORY_FLAG_DONT_CLOSE);
  if (!mem) {
    memfd_release (m);
    return NULL;
  }
  gst_mini_object_set_qdata (GST_MINI_OBJECT (mem), memfd_quark, m, memfd_release);
  gst_memory_resize (mem, params->prefix, size);
  return mem;
}

static gpointer
memfd_map (GstMemory * mem, gsize maxsize, GstMapFlags flags)
{
  QsMemfd *m = qs_memory_qdata (mem, memfd_quark);
  return m ? m->map : NULL;
}

static void
memfd_unmap (GstMemory * mem)
{
  /* the mapping belongs to the memfd: it outlives every memory on it */
}

static void
qs_memfd_allocator_class_init (QsMemfdAllocatorClass * klass)
{
  GST_ALLOCATOR_CLASS (klass)->alloc = qs_memfd_allocator_alloc;
  memfd_quark = g_quark_from_static_string ("qtisocket-memfd");
}

static void
qs_memfd_allocator_init (QsMemfdAllocator * self)
{
  GstAllocator *alloc = GST_ALLOCATOR (self);
  alloc->mem_map = memfd_map;
  alloc->mem_unmap = memfd_unmap;
  /* copies of its memories (gst_memory_copy's fallback) come from it too */
  GST_OBJECT_FLAG_UNSET (self, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

GstAllocator *
qs_memfd_allocator_get (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GstAllocator *a = g_object_new (qs_memfd_allocator_get_type (), NULL);
    gst_object_ref_sink (a);
    gst_allocator_register (QS_MEMFD_ALLOCATOR, gst_object_ref (a));
    g_once_init_leave (&once, (gsize) a);
  }
  return gst_object_ref ((GstAllocator *) once);
}

GstMemory *
qs_memfd_alloc (gsize size)
{
  GstAllocator *a = qs_memfd_allocator_get ();
  GstMemory *mem = gst_allocator_alloc (a, size, NULL);
  gst_object_unref (a);
  return mem;
}

/* ---- through a tee ------------------------------------------------------------------------------
 * A tee answers the allocation query itself, from its branches' answers: it drops every allocator
 * and pool they propose, and fails the query altogether when one branch does not answer (fakesink,
 * appsink...). Either way the producer before it draws into plain memory, which each qtisocketsink
 * would then have to copy. So a sink that finds a tee upstream (through elements with one input and
 * one output, such as the queue each branch starts with) amends that tee's answer: the memfd
 * allocator goes where the tee leaves none, and a query the tee failed is answered with that
 * allocator alone (as good as no answer for every other branch: the producer makes its own pool).
 * The producer's pool then draws into memfds, which every branch reads as usual and every
 * qtisocketsink sends without a copy. The probe stays while a sink of ours is downstream of that tee. */
typedef struct {
  gulong probe;
  guint users;
} TeeProbe;

static GMutex tee_lock;
static GQuark tee_quark;

/* the memfd allocator where the answer names none */
static void
offer_memfd (GstQuery * query)
{
  GstAllocator *allocator = NULL;
  GstAllocationParams params;

  gst_allocation_params_init (&params);
  if (gst_query_get_n_allocation_params (query) > 0)
    gst_query_parse_nth_allocation_param (query, 0, &allocator, &params);
  if (allocator) {
    gst_object_unref (allocator);       /* someone else chose: leave it */
    return;
  }
  allocator = qs_memfd_allocator_get ();
  if (gst_query_get_n_allocation_params (query) > 0)
    gst_query_set_nth_allocation_param (query, 0, allocator, &params);
  else
    gst_query_add_allocation_param (query, allocator, &params);
  gst_object_unref (allocator);
}

static GstPadProbeReturn
tee_answer_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  GstPadQueryFunction tee_query = GST_PAD_QUERYFUNC (pad);
  GstObject *tee;
  gboolean answered;

  if (!query || GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION)
    return GST_PAD_PROBE_OK;
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_PULL) {
    /* after the tee answered a query that came before this probe did */
    offer_memfd (query);
    return GST_PAD_PROBE_OK;
  }
  /* before: let the tee answer (what the pad would do next), then amend, even a failed answer */
  tee = gst_pad_get_parent (pad);
  answered = tee && tee_query (pad, tee, query);
  if (tee)
    gst_object_unref (tee);
  offer_memfd (query);
  GST_CAT_DEBUG_OBJECT (qs_sink_debug, pad, "the memfd allocator goes into this tee's allocation answer%s",
      answered ? "" : " (the tee could not answer: a branch does not)");
  return GST_PAD_PROBE_HANDLED;
}

/* the sink pad of a tee upstream of pad, through elements with one input and one output */
static GstPad *
tee_upstream (GstPad * pad)
{
  GstPad *peer = gst_pad_get_peer (pad), *found = NULL;
  guint depth;

  for (depth = 0; peer && depth < 16 && !found; depth++) {
    GstElement *element = gst_pad_get_parent_element (peer);
    GstPad *next = NULL;
    if (element) {
      if (g_str_equal (G_OBJECT_TYPE_NAME (element), "GstTee"))
        found = gst_element_get_static_pad (element, "sink");
      else if (element->numsinkpads == 1 && element->numsrcpads == 1)
        next = gst_element_get_static_pad (element, "sink");
      gst_object_unref (element);
    }
    gst_object_unref (peer);
    peer = next ? gst_pad_get_peer (next) : NULL;
    if (next)
      gst_object_unref (next);
  }
  if (peer)
    gst_object_unref (peer);
  return found;
}

void
qs_amend_tee (QsInstance * inst)
{
  GstPad *tee;
  TeeProbe *tp;

  if (inst->tee_pad)
    return;
  tee = tee_upstream (GST_BASE_SINK_PAD (inst->element));
  if (!tee)
    return;
  g_mutex_lock (&tee_lock);
  if (!tee_quark)
    tee_quark = g_quark_from_static_string ("qtisocket-tee-probe");
  tp = g_object_get_qdata (G_OBJECT (tee), tee_quark);
  if (!tp) {
    tp = g_new0 (TeeProbe, 1);
    /* added at start, before upstream asks; if added while the tee answers (a branch linked
     * later), the probe's second call comes for that query too */
    tp->probe = gst_pad_add_probe (tee, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, tee_answer_probe, NULL, NULL);
    g_object_set_qdata_full (G_OBJECT (tee), tee_quark, tp, g_free);
    GST_INFO_OBJECT (inst->element, "upstream %" GST_PTR_FORMAT " drops allocators: it will offer memfds",
        tee);
  }
  tp->users++;
  g_mutex_unlock (&tee_lock);
  inst->tee_pad = tee;
}

void
qs_forget_tee (QsInstance * inst)
{
  TeeProbe *tp;
  if (!inst->tee_pad)
    return;
  g_mutex_lock (&tee_lock);
  tp = g_object_get_qdata (G_OBJECT (inst->tee_pad), tee_quark);
  if (tp && --tp->users == 0) {
    gst_pad_remove_probe (inst->tee_pad, tp->probe);
    g_object_set_qdata (G_OBJECT (inst->tee_pad), tee_quark, NULL);
  }
  g_mutex_unlock (&tee_lock);
  gst_clear_object (&inst->tee_pad);
}

gboolean
qs_propose_allocation (QsInstance * inst, GstQuery * query)
{
  GstCaps *caps;
  gboolean need_pool;
  GstVideoInfo info;
  GstAllocationParams params;
  GstAllocator *allocator;

  gst_query_parse_allocation (query, &caps, &need_pool);
  if (!caps)
    return FALSE;
  qs_amend_tee (inst);
  allocator = qs_memfd_allocator_get ();
  gst_allocation_params_init (&params);

  if (gst_video_info_from_caps (&info, caps) &&
      gst_caps_features_is_equal (gst_caps_get_features (caps, 0),
          GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY)) {
    if (need_pool) {
      GstBufferPool *pool = gst_video_buffer_pool_new ();
      GstStructure *config = gst_buffer_pool_get_config (pool);
      gst_buffer_pool_config_set_params (config, caps, info.size, 2, 0);
      gst_buffer_pool_config_set_allocator (config, allocator, &params);
      gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
      if (gst_buffer_pool_set_config (pool, config))
        gst_query_add_allocation_pool (query, pool, info.size, 2, 0);
      else
        GST_WARNING_OBJECT (inst->element, "cannot configure the memfd pool");
      gst_object_unref (pool);
    }
    gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  }
  gst_query_add_allocation_param (query, allocator, &params);
  gst_object_unref (allocator);
  GST_DEBUG_OBJECT (inst->element, "proposed memfd allocation for %" GST_PTR_FORMAT, caps);
  return TRUE;
}
