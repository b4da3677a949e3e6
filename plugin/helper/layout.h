/* The wire's fixed-size records: GENERATED from lib/protocol/layout.ts by scripts/gen-layout.ts
 * (node dist/scripts/gen-layout.js). Do not edit: change the table and generate again;
 * test/layout.test.ts fails while this file is not the one the table makes. */
#pragma once
#include <glib.h>

G_STATIC_ASSERT (G_BYTE_ORDER == G_LITTLE_ENDIAN);     /* the wire is little-endian */

/* our items' identities, the vendor's structs' identities and sizes, upstream's unixfd commands */
#define QS_ITEM_BASE 0x51540000u
enum { QS_ITEM_HELLO = QS_ITEM_BASE | 1, QS_ITEM_CAPS = QS_ITEM_BASE | 2, QS_ITEM_BUFFER = QS_ITEM_BASE | 3, QS_ITEM_VIDEO_META = QS_ITEM_BASE | 4, QS_ITEM_RELEASE = QS_ITEM_BASE | 5, QS_ITEM_ROI_META = QS_ITEM_BASE | 6, QS_ITEM_DATA = QS_ITEM_BASE | 7, QS_ITEM_FDS = QS_ITEM_BASE | 8, QS_ITEM_FORGET = QS_ITEM_BASE | 9 };
enum { QS_VENDOR_EOS = 0, QS_VENDOR_DISCONNECT = 1, QS_VENDOR_BUFFER_INFO = 2, QS_VENDOR_FRAME = 3, QS_VENDOR_TENSOR = 4, QS_VENDOR_TEXT = 5, QS_VENDOR_RETURN_BUFFER = 6, QS_VENDOR_FD_COUNT = 7, QS_VENDOR_PROTECTION_META = 8, QS_VENDOR_ROI_META = 9, QS_VENDOR_CLASS_META = 10, QS_VENDOR_LANDMARKS_META = 11 };
static const gssize qs_vendor_sizes[] = { 4, 4, 72, 88, 60, 1044, 44, 8, 1044, 588, 9876, 4140 };
enum { QS_UNIXFD_NEW_BUFFER = 0, QS_UNIXFD_RELEASE_BUFFER = 1, QS_UNIXFD_CAPS = 2, QS_UNIXFD_EOS = 3 };
#define QS_UNIXFD_VIDEO_META "GstVideoMeta"

/* what a receiver accepts, and a sender keeps to */
#define QS_LIMIT_MEMORIES 64
#define QS_LIMIT_ROIS 256
#define QS_LIMIT_ROI_PARAMS 64
#define QS_LIMIT_CAPS_LENGTH 65536
#define QS_LIMIT_INLINE_SEND 4096
#define QS_LIMIT_DATA 1048576
#define QS_LIMIT_FDS 64
#define QS_LIMIT_CACHED 1024
#define QS_LIMIT_VENDOR_BLOCKS 10
#define QS_LIMIT_MESSAGE 16777216

/* the header of our items (identity 0x5154xxxx); the body follows, padded to 4 bytes */
typedef struct __attribute__ ((packed)) {
  guint32 identity;
  guint32 length;
} QsWireItem;
G_STATIC_ASSERT (sizeof (QsWireItem) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireItem, identity) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireItem, length) == 4);

/* HELLO's body; the UTF-8 software name follows */
typedef struct __attribute__ ((packed)) {
  guint16 major;
  guint16 minor;
  guint32 features;
} QsWireHello;
G_STATIC_ASSERT (sizeof (QsWireHello) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireHello, major) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireHello, minor) == 2);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireHello, features) == 4);

/* BUFFER's body; a QsWireMemory per memory follows */
typedef struct __attribute__ ((packed)) {
  guint64 id;
  guint64 pts;
  guint64 dts;
  guint64 duration;
  guint64 offset;
  guint64 offset_end;
  guint32 flags;
  guint32 n_memories;
  guint64 running_pts;
  guint64 running_dts;
  guint64 base_monotonic;
} QsWireBuffer;
G_STATIC_ASSERT (sizeof (QsWireBuffer) == 80);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireBuffer, id) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireBuffer, pts) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireBuffer, dts) == 16);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireBuffer, duration) == 24);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireBuffer, offset) == 32);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireBuffer, offset_end) == 40);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireBuffer, flags) == 48);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireBuffer, n_memories) == 52);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireBuffer, running_pts) == 56);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireBuffer, running_dts) == 64);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireBuffer, base_monotonic) == 72);

/* one memory of BUFFER: the fd it is on (index among the message's fds; 1.2: the id the fd is cached by), its kind (1 fd, 2 DMA-BUF, 3 inline), and its span, as GstMemory's */
typedef struct __attribute__ ((packed)) {
  guint32 fd;
  guint32 kind;
  guint64 offset;
  guint64 size;
  guint64 maxsize;
} QsWireMemory;
G_STATIC_ASSERT (sizeof (QsWireMemory) == 32);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireMemory, fd) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireMemory, kind) == 4);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireMemory, offset) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireMemory, size) == 16);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireMemory, maxsize) == 24);

/* VIDEO_META's body (GstVideoMeta) */
typedef struct __attribute__ ((packed)) {
  guint32 format;
  guint32 width;
  guint32 height;
  guint32 n_planes;
  guint32 flags;
  guint32 reserved;
  guint64 offsets[4];
  gint32 strides[4];
} QsWireVideoMeta;
G_STATIC_ASSERT (sizeof (QsWireVideoMeta) == 72);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireVideoMeta, format) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireVideoMeta, width) == 4);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireVideoMeta, height) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireVideoMeta, n_planes) == 12);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireVideoMeta, flags) == 16);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireVideoMeta, reserved) == 20);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireVideoMeta, offsets) == 24);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireVideoMeta, strides) == 56);

/* the fixed part of ROI_META's body; the type, then per parameter a u32 length and the GstStructure as a string follow, each padded to 4 bytes */
typedef struct __attribute__ ((packed)) {
  gint32 id;
  gint32 parent_id;
  guint32 x;
  guint32 y;
  guint32 w;
  guint32 h;
  guint32 type_length;
  guint32 n_params;
} QsWireRoi;
G_STATIC_ASSERT (sizeof (QsWireRoi) == 32);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireRoi, id) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireRoi, parent_id) == 4);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireRoi, x) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireRoi, y) == 12);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireRoi, w) == 16);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireRoi, h) == 20);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireRoi, type_length) == 24);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireRoi, n_params) == 28);

/* RELEASE's body; u64 buffer ids[count] follow */
typedef struct __attribute__ ((packed)) {
  guint32 count;
  guint32 reserved;
} QsWireRelease;
G_STATIC_ASSERT (sizeof (QsWireRelease) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireRelease, count) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsWireRelease, reserved) == 4);

/* the description of a buffer that the helper and the element exchange (lib/protocol/desc.ts): this header, a QsWireMemory per memory, a QsWireVideoMeta if has_video_meta, per region of interest a u32 length then its ROI_META record, the inline bytes padded to 4, then the fd cache's section (fd_naming 1) */
typedef struct __attribute__ ((packed)) {
  guint64 id;
  guint64 pts;
  guint64 dts;
  guint64 duration;
  guint64 offset;
  guint64 offset_end;
  guint32 flags;
  guint32 n_memories;
  guint32 has_video_meta;
  guint32 n_fds;
  guint64 running_pts;
  guint64 running_dts;
  guint64 base_monotonic;
  guint32 n_rois;
  guint32 inline_length;
  guint32 fd_naming;
  guint32 n_forget;
} QsDesc;
G_STATIC_ASSERT (sizeof (QsDesc) == 104);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, id) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, pts) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, dts) == 16);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, duration) == 24);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, offset) == 32);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, offset_end) == 40);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, flags) == 48);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, n_memories) == 52);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, has_video_meta) == 56);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, n_fds) == 60);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, running_pts) == 64);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, running_dts) == 72);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, base_monotonic) == 80);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, n_rois) == 88);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, inline_length) == 92);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, fd_naming) == 96);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsDesc, n_forget) == 100);

/* the vendor's BUFFER_INFO (identity 2) */
typedef struct __attribute__ ((packed)) {
  guint32 identity;
  gint32 buf_id[10];
  guint64 pts;
  guint64 dts;
  guint64 duration;
  gint32 use_buffer_pool;
} QsVendorBufferInfo;
G_STATIC_ASSERT (sizeof (QsVendorBufferInfo) == 72);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorBufferInfo, identity) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorBufferInfo, buf_id) == 4);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorBufferInfo, pts) == 44);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorBufferInfo, dts) == 52);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorBufferInfo, duration) == 60);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorBufferInfo, use_buffer_pool) == 68);

/* the vendor's FRAME (identity 3) */
typedef struct __attribute__ ((packed)) {
  guint32 identity;
  guint32 width;
  guint32 height;
  guint32 format;
  guint32 n_planes;
  guint64 offsets[4];
  gint32 strides[4];
  guint32 flags;
  guint64 size;
  guint64 maxsize;
} QsVendorFrame;
G_STATIC_ASSERT (sizeof (QsVendorFrame) == 88);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFrame, identity) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFrame, width) == 4);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFrame, height) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFrame, format) == 12);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFrame, n_planes) == 16);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFrame, offsets) == 20);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFrame, strides) == 52);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFrame, flags) == 68);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFrame, size) == 72);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFrame, maxsize) == 80);

/* the vendor's TENSOR (identity 4) */
typedef struct __attribute__ ((packed)) {
  guint32 identity;
  guint32 type;
  guint32 n_dimensions;
  guint32 dimensions[8];
  guint64 size;
  guint64 maxsize;
} QsVendorTensor;
G_STATIC_ASSERT (sizeof (QsVendorTensor) == 60);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorTensor, identity) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorTensor, type) == 4);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorTensor, n_dimensions) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorTensor, dimensions) == 12);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorTensor, size) == 44);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorTensor, maxsize) == 52);

/* the vendor's TEXT (identity 5) */
typedef struct __attribute__ ((packed)) {
  guint32 identity;
  guint8 contents[1024];
  guint64 size;
  guint64 maxsize;
} QsVendorText;
G_STATIC_ASSERT (sizeof (QsVendorText) == 1044);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorText, identity) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorText, contents) == 4);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorText, size) == 1028);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorText, maxsize) == 1036);

/* the vendor's RETURN_BUFFER (identity 6) */
typedef struct __attribute__ ((packed)) {
  guint32 identity;
  gint32 buf_id[10];
} QsVendorReturnBuffer;
G_STATIC_ASSERT (sizeof (QsVendorReturnBuffer) == 44);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorReturnBuffer, identity) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorReturnBuffer, buf_id) == 4);

/* the vendor's FD_COUNT (identity 7) */
typedef struct __attribute__ ((packed)) {
  guint32 identity;
  gint32 n_fds;
} QsVendorFdCount;
G_STATIC_ASSERT (sizeof (QsVendorFdCount) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFdCount, identity) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorFdCount, n_fds) == 4);

/* the vendor's ROI meta (identity 9): a label, a box, two parameter strings (ObjectDetection, xtraparams) with their lengths (0: absent) */
typedef struct __attribute__ ((packed)) {
  guint32 identity;
  guint8 label[32];
  gint32 id;
  gint32 parent_id;
  guint32 x;
  guint32 y;
  guint32 w;
  guint32 h;
  guint8 detection[256];
  guint64 detection_length;
  guint8 extra[256];
  guint64 extra_length;
} QsVendorRoiMeta;
G_STATIC_ASSERT (sizeof (QsVendorRoiMeta) == 588);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, identity) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, label) == 4);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, id) == 36);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, parent_id) == 40);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, x) == 44);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, y) == 48);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, w) == 52);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, h) == 56);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, detection) == 60);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, detection_length) == 316);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, extra) == 324);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsVendorRoiMeta, extra_length) == 580);

/* upstream's unixfd wire: the header of a command (UNIXFD_COMMANDS), sent with its fds as SCM_RIGHTS on a stream socket; size bytes of payload follow */
typedef struct __attribute__ ((packed)) {
  guint32 type;
  guint32 size;
} QsUnixfdCommand;
G_STATIC_ASSERT (sizeof (QsUnixfdCommand) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdCommand, type) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdCommand, size) == 4);

/* upstream's unixfd wire: NEW_BUFFER's fixed part (timestamps on CLOCK_MONOTONIC; type 0 memory, 1 DMA-BUF); a QsUnixfdMemory per memory (one fd each, in order) follows, then n_meta metas as gst_meta_serialize writes them */
typedef struct __attribute__ ((packed)) {
  guint64 id;
  guint64 pts;
  guint64 dts;
  guint64 duration;
  guint64 offset;
  guint64 offset_end;
  guint32 flags;
  guint8 type;
  guint8 n_memory;
  guint16 n_meta;
} QsUnixfdNewBuffer;
G_STATIC_ASSERT (sizeof (QsUnixfdNewBuffer) == 56);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdNewBuffer, id) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdNewBuffer, pts) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdNewBuffer, dts) == 16);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdNewBuffer, duration) == 24);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdNewBuffer, offset) == 32);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdNewBuffer, offset_end) == 40);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdNewBuffer, flags) == 48);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdNewBuffer, type) == 52);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdNewBuffer, n_memory) == 53);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdNewBuffer, n_meta) == 54);

/* upstream's unixfd wire: one memory of NEW_BUFFER, its span on its fd */
typedef struct __attribute__ ((packed)) {
  guint64 size;
  guint64 offset;
} QsUnixfdMemory;
G_STATIC_ASSERT (sizeof (QsUnixfdMemory) == 16);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdMemory, size) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdMemory, offset) == 8);

/* a serialized meta (gst_meta_serialize): this header (total: the whole record), the name and its NUL, a u8 version, the body */
typedef struct __attribute__ ((packed)) {
  guint32 total;
  guint32 name_length;
} QsUnixfdMeta;
G_STATIC_ASSERT (sizeof (QsUnixfdMeta) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdMeta, total) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdMeta, name_length) == 4);

/* GstVideoMeta serialized, version 0: this, then u64 offsets[n_planes], i32 strides[n_planes], u32 padding top, bottom, left, right, u32 stride_align[n_planes] */
typedef struct __attribute__ ((packed)) {
  gint32 flags;
  gint32 format;
  guint32 width;
  guint32 height;
  guint32 n_planes;
} QsUnixfdVideoMeta;
G_STATIC_ASSERT (sizeof (QsUnixfdVideoMeta) == 20);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdVideoMeta, flags) == 0);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdVideoMeta, format) == 4);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdVideoMeta, width) == 8);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdVideoMeta, height) == 12);
G_STATIC_ASSERT (G_STRUCT_OFFSET (QsUnixfdVideoMeta, n_planes) == 16);
