/* Received memory that readers pay nothing for per frame: a GstFdAllocator subclass whose memories
 * share the one long-lived, read-only mapping of their cached fd (QsCached) instead of mapping the
 * fd afresh for each buffer and unmapping it when the buffer is freed. A consumer that reads every
 * frame then takes no page fault and makes no mmap/munmap per buffer once each page of the sender's
 * pool has been touched once.
 *
 * The memories stay fd memories (gst_is_fd_memory, gst_fd_memory_get_fd): a relay forwards their fd.
 * They are read-only: a map for writing fails (and the receiver flags them READONLY as well). */
#include "qtisocket.h"

#include <errno.h>
#include <sys/mman.h>

typedef struct {
  GstFdAllocator parent;
} QsRxAllocator;

typedef struct {
  GstFdAllocatorClass parent_class;
} QsRxAllocatorClass;

GType qs_rx_allocator_get_type (void);
G_DEFINE_TYPE (QsRxAllocator, qs_rx_allocator, GST_TYPE_FD_ALLOCATOR);

static GQuark cached_quark;

/* the cached fd's mapping, made the first time any memory on it is mapped */
static gpointer
cached_map (QsCached * c)
{
  static guint8 empty[1];
  gpointer map;

  g_mutex_lock (&c->map_lock);
  if (!c->map && c->size == 0)
    c->map = empty;
  if (!c->map) {
    map = mmap (NULL, c->size, PROT_READ, MAP_SHARED, c->fd, 0);
    if (map == MAP_FAILED)
      GST_CAT_WARNING (qs_src_debug, "cannot map fd %d (%" G_GUINT64_FORMAT " bytes): %s", c->fd,
          c->size, g_strerror (errno));
    else
      c->map = map;
  }
  map = c->map;
  g_mutex_unlock (&c->map_lock);
  return map;
}

void
qs_cached_unmap (QsCached * c)
{
  if (c->map && c->size > 0)
    munmap (c->map, c->size);
  c->map = NULL;
}

static gpointer
rx_map (GstMemory * mem, gsize maxsize, GstMapFlags flags)
{
  QsCached *c;

  if (flags & GST_MAP_WRITE)
    return NULL;
  c = qs_memory_qdata (mem, cached_quark);
  return c ? cached_map (c) : NULL;
}

static void
rx_unmap (GstMemory * mem)
{
  /* the mapping belongs to the cached fd: it outlives every memory on it */
}

static void
qs_rx_allocator_class_init (QsRxAllocatorClass * klass)
{
  cached_quark = g_quark_from_static_string ("qtisocket-rx-cached");
}

static void
qs_rx_allocator_init (QsRxAllocator * self)
{
  GstAllocator *alloc = GST_ALLOCATOR (self);
  alloc->mem_type = "qtisocketrx";
  alloc->mem_map = rx_map;
  alloc->mem_unmap = rx_unmap;
  GST_OBJECT_FLAG_SET (self, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

GstMemory *
qs_rx_memory_new (QsCached * cached, gsize maxsize)
{
  static GstAllocator *allocator;
  GstMemory *mem;

  if (g_once_init_enter (&allocator)) {
    GstAllocator *a = g_object_new (qs_rx_allocator_get_type (), NULL);
    gst_object_ref_sink (a);
    g_once_init_leave (&allocator, a);
  }
  /* the cache keeps the fd open: the memory holds the cache entry, not the fd */
  mem = gst_fd_allocator_alloc (allocator, cached->fd, maxsize, GST_FD_MEMORY_FLAG_DONT_CLOSE);
  if (mem) {
    g_atomic_int_inc (&cached->refcount);
    gst_mini_object_set_qdata (GST_MINI_OBJECT (mem), cached_quark, cached, qs_cached_unref);
  }
  return mem;
}
