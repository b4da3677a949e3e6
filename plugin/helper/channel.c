/* AF_UNIX SOCK_SEQPACKET with SCM_RIGHTS. Framing (shared with the vendor's elements): one record
 * holding the payload length as a big-endian u32, then one record holding the payload, with the fds
 * attached to that second record. Sockets are non-blocking; callers poll before receiving. */
#include "qtisocket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SEND_TIMEOUT_MS 2000
#define RECORD_TIMEOUT_MS 1000

static gboolean
wait_io (gint fd, short events, gint timeout_ms)
{
  struct pollfd p = { fd, events, 0 };
  gint n;
  do
    n = poll (&p, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    errno = ETIMEDOUT;
  return n > 0 && (p.revents & events);
}

/* room for the fds of one message as one SCM_RIGHTS control message */
typedef union {
  struct cmsghdr align;
  char buf[CMSG_SPACE (sizeof (gint) * QS_MAX_FDS)];
} Control;

/* attaches n_fds fds to msg as SCM_RIGHTS (none: no control message) */
static void
attach_fds (struct msghdr *msg, Control * control, const gint * fds, guint n_fds)
{
  struct cmsghdr *c;
  if (n_fds == 0)
    return;
  memset (control, 0, sizeof *control);
  msg->msg_control = control->buf;
  msg->msg_controllen = CMSG_SPACE (sizeof (gint) * n_fds);
  c = CMSG_FIRSTHDR (msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (gint) * n_fds);
  memcpy (CMSG_DATA (c), fds, sizeof (gint) * n_fds);
}

/* the fds that came with a received msg, appended to fds/n_fds (closed beyond max) */
static void
collect_fds (struct msghdr *msg, gint * fds, guint * n_fds, guint max)
{
  struct cmsghdr *c;
  for (c = CMSG_FIRSTHDR (msg); c; c = CMSG_NXTHDR (msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      guint i, count = (c->cmsg_len - CMSG_LEN (0)) / sizeof (gint);
      gint *in = (gint *) CMSG_DATA (c);
      for (i = 0; i < count; i++) {
        if (*n_fds < max)
          fds[(*n_fds)++] = in[i];
        else
          close (in[i]);
      }
    }
  }
}

/* One recvmsg into buf, without waiting, with room for the fds of one message (collected into fds,
 * at most max; the rest closed). Returns what recvmsg returns; *flags its msg_flags. */
static ssize_t
recv_once (gint fd, void *buf, gsize len, gint * fds, guint * n_fds, guint max, gint * flags)
{
  Control control;
  struct iovec iov = { buf, len };
  struct msghdr msg = { 0 };
  ssize_t n;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  n = recvmsg (fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  *flags = msg.msg_flags;
  if (n >= 0)
    collect_fds (&msg, fds, n_fds, max);
  return n;
}

/* Reads and drops whatever the peer sent that is still queued (closing any fds it carried), without
 * waiting: a socket closed with unread data makes the peer's next read fail (ECONNRESET), and it would
 * lose what we sent it and it has not read yet (the tail of a stream, its end). */
void
qs_socket_discard (gint fd)
{
  guint8 scratch[512];
  for (;;) {
    gint fds[QS_MAX_FDS], flags;
    guint n_fds = 0, i;
    ssize_t n = recv_once (fd, scratch, sizeof scratch, fds, &n_fds, QS_MAX_FDS, &flags);
    for (i = 0; i < n_fds; i++)
      close (fds[i]);
    if (n <= 0)
      return;
  }
}

static gint
send_record (gint fd, struct msghdr *msg)
{
  for (;;) {
    ssize_t n = sendmsg (fd, msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0)
      return 0;
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN || !wait_io (fd, POLLOUT, SEND_TIMEOUT_MS))
      return -1;
  }
}

gint
qs_socket_send (gint fd, const guint8 * data, gsize len, const gint * fds, guint n_fds)
{
  guint32 be = htonl ((guint32) len);
  struct iovec iov_len = { &be, 4 }, iov = { (void *) data, len };
  struct msghdr msg = { 0 };
  Control control;

  if (n_fds > QS_MAX_FDS || len == 0 || len > QS_MAX_MESSAGE) {
    errno = EMSGSIZE;
    return -1;
  }
  msg.msg_iov = &iov_len;
  msg.msg_iovlen = 1;
  if (send_record (fd, &msg) < 0)
    return -1;

  memset (&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  attach_fds (&msg, &control, fds, n_fds);
  return send_record (fd, &msg);
}

/* receives one record; fds that arrive with it are appended to fds/n_fds (closed beyond max) */
static gssize
recv_record (gint fd, void *buf, gsize len, gint * fds, guint * n_fds, guint max_fds,
    gint timeout_ms)
{
  ssize_t n;
  gint flags;
  gboolean reset_seen = FALSE;

  for (;;) {
    n = recv_once (fd, buf, len, fds, n_fds, max_fds, &flags);
    if (n >= 0)
      break;
    if (errno == EINTR)
      continue;
    /* A peer that closed with our messages unread in its queue leaves ECONNRESET pending here; it
     * is reported once, before the records it sent last (its end-of-stream...), which stay readable */
    if (errno == ECONNRESET && !reset_seen) {
      reset_seen = TRUE;
      continue;
    }
    if (errno != EAGAIN || !wait_io (fd, POLLIN, timeout_ms))
      return -1;
  }
  if (flags & (MSG_TRUNC | MSG_CTRUNC)) {
    errno = EPROTO;
    return -1;
  }
  return n;
}

gssize
qs_socket_recv (gint fd, guint8 ** data, gint * fds, guint * n_fds)
{
  guint32 be;
  gssize n, len;
  guint8 *buf;
  guint i, dummy_n = 0;
  gint dummy[QS_MAX_FDS];

  *data = NULL;
  *n_fds = 0;
  n = recv_record (fd, &be, 4, dummy, &dummy_n, QS_MAX_FDS, 0);
  for (i = 0; i < dummy_n; i++)
    close (dummy[i]);           /* fds on a length record are a protocol error: never keep them */
  if (n < 0 && errno == ETIMEDOUT)
    errno = EAGAIN;             /* woken without a record: nothing to read yet */
  if (n <= 0)
    return n;
  if (n != 4 || dummy_n) {
    errno = EPROTO;
    return -1;
  }
  len = ntohl (be);
  if (len == 0 || len > QS_MAX_MESSAGE) {
    errno = EMSGSIZE;
    return -1;
  }
  buf = g_malloc (len + 1);
  n = recv_record (fd, buf, len + 1, fds, n_fds, QS_MAX_FDS, RECORD_TIMEOUT_MS);
  if (n != len) {
    for (i = 0; i < *n_fds; i++)
      close (fds[i]);
    *n_fds = 0;
    g_free (buf);
    if (n >= 0)
      errno = n == 0 ? ECONNRESET : EPROTO;
    return -1;
  }
  *data = buf;
  return len;
}

static gboolean
fill_addr (const gchar * path, struct sockaddr_un *addr)
{
  memset (addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (strlen (path) >= sizeof addr->sun_path) {
    errno = ENAMETOOLONG;
    return FALSE;
  }
  strcpy (addr->sun_path, path);
  return TRUE;
}

gint
qs_socket_connect (const gchar * path)
{
  return qs_socket_connect_type (path, FALSE);
}

gint
qs_socket_connect_type (const gchar * path, gboolean stream)
{
  struct sockaddr_un addr;
  gint fd, err;
  if (!fill_addr (path, &addr))
    return -1;
  fd = socket (AF_UNIX, (stream ? SOCK_STREAM : SOCK_SEQPACKET) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0)
    return fd;
  err = errno;
  close (fd);
  errno = err;
  return -1;
}

gint
qs_socket_listen (const gchar * path, gboolean stream, guint mode, dev_t * dev, ino_t * ino, gchar ** error)
{
  struct sockaddr_un addr;
  struct stat st;
  gint fd;

  if (!fill_addr (path, &addr)) {
    *error = g_strdup_printf ("the path is longer than the %d bytes a UNIX socket address holds",
        (gint) sizeof addr.sun_path - 1);
    return -1;
  }
  if (lstat (path, &st) == 0) {
    gint probe;
    if (!S_ISSOCK (st.st_mode)) {
      *error = g_strdup ("the path exists and is not a socket");
      return -1;
    }
    /* a socket file is stale only if nobody listens on it any more (one listening on a socket of
     * the other type refuses us with EPROTOTYPE: it is alive) */
    probe = qs_socket_connect_type (path, stream);
    if (probe >= 0 || errno == EAGAIN || errno == EPROTOTYPE) {
      gboolean other = probe < 0 && errno == EPROTOTYPE;
      if (probe >= 0)
        close (probe);
      *error = g_strdup (other ? "another process is listening on it (with a socket of the other "
          "type: the other wire)" : "another receiver is listening on it");
      return -1;
    }
    if (unlink (path) < 0 && errno != ENOENT) {
      *error = g_strdup_printf ("cannot remove the stale socket file: %s", g_strerror (errno));
      return -1;
    }
  }
  fd = socket (AF_UNIX, (stream ? SOCK_STREAM : SOCK_SEQPACKET) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = g_strdup_printf ("socket(): %s", g_strerror (errno));
    return -1;
  }
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0) {
    *error = g_strdup_printf ("bind(): %s", g_strerror (errno));
    close (fd);
    return -1;
  }
  /* the mode decides who may connect (write permission on the socket file); set before listen(), so
   * that nobody connects in between */
  if (chmod (path, mode) < 0) {
    *error = g_strdup_printf ("chmod(%04o): %s", mode, g_strerror (errno));
    close (fd);
    unlink (path);
    return -1;
  }
  if (listen (fd, 8) < 0 || stat (path, &st) < 0) {
    *error = g_strdup_printf ("listen(): %s", g_strerror (errno));
    close (fd);
    unlink (path);
    return -1;
  }
  *dev = st.st_dev;
  *ino = st.st_ino;
  return fd;
}

/* ---- upstream GStreamer's unixfd wire: SOCK_STREAM, each command an 8-byte header {u32 type; u32
 * size} carrying its fds, then its payload. Sent whole under the connection's lock (a partial write
 * is finished, never interleaved); received whole: a peer that stops in the middle of a command for
 * RECORD_TIMEOUT_MS broke the framing. ----------------------------------------------------------- */

gint
qs_stream_send (gint fd, guint32 type, const guint8 * payload, gsize len, const gint * fds, guint n_fds)
{
  QsUnixfdCommand c = { type, (guint32) len };
  struct iovec iov[2] = { {&c, sizeof c}, {(void *) payload, len} };
  struct msghdr msg = { 0 };
  Control control;
  gsize total = sizeof c + len, done = 0;

  if (n_fds > QS_MAX_FDS || len > QS_MAX_MESSAGE) {
    errno = EMSGSIZE;
    return -1;
  }
  msg.msg_iov = iov;
  msg.msg_iovlen = len ? 2 : 1;
  attach_fds (&msg, &control, fds, n_fds);
  while (done < total) {
    ssize_t n = sendmsg (fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN || !wait_io (fd, POLLOUT, SEND_TIMEOUT_MS))
        return -1;
      continue;
    }
    done += n;
    /* the fds went with the first byte; the rest follows without them */
    msg.msg_control = NULL;
    msg.msg_controllen = 0;
    while (n > 0 && msg.msg_iovlen > 0) {
      if ((gsize) n >= msg.msg_iov[0].iov_len) {
        n -= msg.msg_iov[0].iov_len;
        msg.msg_iov++;
        msg.msg_iovlen--;
      } else {
        msg.msg_iov[0].iov_base = (guint8 *) msg.msg_iov[0].iov_base + n;
        msg.msg_iov[0].iov_len -= n;
        n = 0;
      }
    }
  }
  return 0;
}

/* reads exactly len bytes into buf (the fds that come are appended to fds/n_fds); 0 if the peer closed
 * before the first byte, -1 on error; first: EAGAIN if nothing is there yet */
static gssize
stream_read (gint fd, guint8 * buf, gsize len, gint * fds, guint * n_fds, gboolean first)
{
  gsize got = 0;
  while (got < len) {
    gint flags;
    ssize_t n = recv_once (fd, buf + got, len - got, fds, n_fds, QS_MAX_FDS, &flags);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN && first && got == 0)
        return -1;              /* nothing to read yet */
      if (errno != EAGAIN || !wait_io (fd, POLLIN, RECORD_TIMEOUT_MS)) {
        if (errno == ETIMEDOUT)
          errno = EPROTO;       /* stopped in the middle of a command */
        return -1;
      }
      continue;
    }
    if (flags & MSG_CTRUNC) {
      errno = EPROTO;
      return -1;
    }
    if (n == 0) {
      if (got == 0 && first)
        return 0;
      errno = ECONNRESET;       /* closed in the middle of a command */
      return -1;
    }
    got += n;
  }
  return got;
}

gssize
qs_stream_recv (gint fd, guint8 ** data, gint * fds, guint * n_fds)
{
  QsUnixfdCommand c;
  guint8 *buf;
  gssize n;
  guint i;

  *data = NULL;
  *n_fds = 0;
  n = stream_read (fd, (guint8 *) & c, sizeof c, fds, n_fds, TRUE);
  if (n > 0 && c.size > QS_MAX_MESSAGE) {
    errno = EMSGSIZE;
    n = -1;
  }
  if (n > 0) {
    buf = g_malloc (sizeof c + c.size);
    memcpy (buf, &c, sizeof c);
    /* fds belong to the header; any that come with the payload are the peer's error: kept and counted,
     * the element sees how many came */
    if (c.size && stream_read (fd, buf + sizeof c, c.size, fds, n_fds, FALSE) < 0) {
      g_free (buf);
      n = -1;
    } else {
      *data = buf;
      return sizeof c + c.size;
    }
  }
  if (n < 0) {
    gint err = errno;
    for (i = 0; i < *n_fds; i++)
      close (fds[i]);
    *n_fds = 0;
    errno = err;
  }
  return n;
}
