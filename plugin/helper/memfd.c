/* Shareable memory for upstream: a GstFdAllocator subclass whose memories are sealed memfds, kept
 * mapped, and the buffer pool the sink proposes in its allocation answer, so that upstream (e.g.
 * videotestsrc, a decoder in system memory) draws straight into memory the receiver can map. */
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

static GstMemory *
qs_memfd_allocator_alloc (GstAllocator * allocator, gsize size, GstAllocationParams * params)
{
  gsize maxsize = size + params->prefix + params->padding;
  GstMemory *mem;
  gint fd = memfd_create ("qtisocket", MFD_CLOEXEC | MFD_ALLOW_SEALING);

  if (fd < 0) {
    GST_ERROR ("memfd_create: %s", g_strerror (errno));
    return NULL;
  }
  if (ftruncate (fd, maxsize) < 0) {
    GST_ERROR ("ftruncate(%" G_GSIZE_FORMAT "): %s", maxsize, g_strerror (errno));
    close (fd);
    return NULL;
  }
  /* receivers map the whole size: it must never shrink under them (SIGBUS) */
  if (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
    GST_WARNING ("cannot seal the memfd: %s", g_strerror (errno));
  mem = gst_fd_allocator_alloc (allocator, fd, maxsize, GST_FD_MEMORY_FLAG_KEEP_MAPPED);
  if (!mem) {
    close (fd);
    return NULL;
  }
  gst_memory_resize (mem, params->prefix, size);
  return mem;
}

static void
qs_memfd_allocator_class_init (QsMemfdAllocatorClass * klass)
{
  GST_ALLOCATOR_CLASS (klass)->alloc = qs_memfd_allocator_alloc;
}

static void
qs_memfd_allocator_init (QsMemfdAllocator * self)
{
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
