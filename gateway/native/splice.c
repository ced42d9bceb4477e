// Moves a known number of bytes from one socket to another inside the
// kernel: splice(2) from the source into a pipe, and from the pipe into the
// destination. The bytes never enter the process, so a request body costs
// neither the copy out of the client's socket nor the copy into the
// backend's (on loopback a 1 MiB upload went from ~600 to ~250 us of the
// worker's CPU; gateway/README.md, Performance). HAProxy does the same for
// bodies it need not look at.
//
//   relay(sourceFd, destinationFd, bytes, done) -> handle
//   done(result, moved, side): result 0 once `bytes` reached the
//     destination; else -errno, with side 0 (source: an error, or its EOF
//     as -ECONNRESET), 1 (destination) or -1 (cancelled).
//   handle.cancel(): stops at once; done follows with -ECANCELED.
//   handle.moved(): bytes delivered to the destination so far.
//
// The sockets stay Node's: the caller has stopped reading the source and
// has no write queued on the destination. The relay watches duplicates of
// the two fds (libuv allows one watcher per fd, and Node's stream holds
// that one), so both sockets stay open until done has been called.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

// What one splice into the pipe asks for; also the pipe's size when the
// kernel grants it (fs.pipe-max-size), else the default 64 KiB.
#define CHUNK (1024 * 1024)

typedef struct {
  uv_poll_t source_poll;
  uv_poll_t destination_poll;
  int source_fd, destination_fd, pipe_read, pipe_write;
  int64_t remaining;
  size_t in_pipe;
  int64_t moved;
  int open_handles;
  int done;
  int result, side;
  int handle_collected;
  napi_env env;
  napi_ref callback;
  // Holds the handle (the async resource) until done has been called.
  napi_ref handle;
  napi_async_context async_context;
} relay_t;

static void maybe_free(relay_t *r) {
  if (r->done == 2 && r->handle_collected) free(r);
}

static void on_closed(uv_handle_t *h) {
  relay_t *r = h->data;
  if (--r->open_handles > 0) return;
  close(r->source_fd);
  close(r->destination_fd);
  close(r->pipe_read);
  close(r->pipe_write);
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, global, argv[3], ignored;
  napi_get_reference_value(env, r->callback, &callback);
  napi_get_global(env, &global);
  napi_create_int32(env, r->result, &argv[0]);
  napi_create_int64(env, r->moved, &argv[1]);
  napi_create_int32(env, r->side, &argv[2]);
  // make_callback: microtasks and nextTicks run after it, as after any I/O callback.
  if (napi_make_callback(env, r->async_context, global, callback, 3, argv, &ignored) ==
      napi_pending_exception) {
    // Thrown by done: an uncaught exception, as from any other I/O callback.
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_delete_reference(env, r->callback);
  napi_delete_reference(env, r->handle);
  napi_async_destroy(env, r->async_context);
  napi_close_handle_scope(env, scope);
  r->done = 2;
  maybe_free(r);
}

static void finish(relay_t *r, int result, int side) {
  if (r->done) return;
  r->done = 1;
  r->result = result;
  r->side = side;
  uv_close((uv_handle_t *)&r->source_poll, on_closed);
  uv_close((uv_handle_t *)&r->destination_poll, on_closed);
}

// 1: the pipe is empty; 0: the destination would block; < 0: -errno.
static int drain(relay_t *r) {
  while (r->in_pipe > 0) {
    ssize_t n = splice(r->pipe_read, NULL, r->destination_fd, NULL, r->in_pipe,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      r->in_pipe -= (size_t)n;
      r->moved += n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return 0;
    } else {
      return n < 0 ? -errno : -EPIPE;
    }
  }
  return 1;
}

static void on_destination_writable(uv_poll_t *h, int status, int events);

static void on_source_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  relay_t *r = h->data;
  if (status < 0) {
    finish(r, status, 0);
    return;
  }
  while (r->remaining > 0) {
    size_t want = r->remaining < CHUNK ? (size_t)r->remaining : CHUNK;
    ssize_t n = splice(r->source_fd, NULL, r->pipe_write, NULL, want,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n == 0) {
      finish(r, -ECONNRESET, 0);
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      finish(r, -errno, 0);
      return;
    }
    if (n > 0) {
      r->in_pipe += (size_t)n;
      r->remaining -= n;
    }
    // EAGAIN is an empty source or a full pipe: draining the pipe tells which.
    int drained = drain(r);
    if (drained < 0) {
      finish(r, drained, 1);
      return;
    }
    if (drained == 0) {
      uv_poll_stop(&r->source_poll);
      uv_poll_start(&r->destination_poll, UV_WRITABLE, on_destination_writable);
      return;
    }
    if (n < 0) return;  // the source is empty: wait for it
  }
  finish(r, 0, 0);
}

static void on_destination_writable(uv_poll_t *h, int status, int events) {
  (void)events;
  relay_t *r = h->data;
  if (status < 0) {
    finish(r, status, 1);
    return;
  }
  int drained = drain(r);
  if (drained < 0) {
    finish(r, drained, 1);
    return;
  }
  if (drained == 0) return;
  uv_poll_stop(&r->destination_poll);
  if (r->remaining == 0) {
    finish(r, 0, 0);
    return;
  }
  uv_poll_start(&r->source_poll, UV_READABLE, on_source_readable);
}

static relay_t *unwrap_this(napi_env env, napi_callback_info info) {
  napi_value self;
  void *r = NULL;
  napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
  napi_unwrap(env, self, &r);
  return r;
}

static napi_value cancel(napi_env env, napi_callback_info info) {
  relay_t *r = unwrap_this(env, info);
  if (r != NULL && !r->done) finish(r, -ECANCELED, -1);
  return NULL;
}

static napi_value moved(napi_env env, napi_callback_info info) {
  relay_t *r = unwrap_this(env, info);
  napi_value value;
  napi_create_int64(env, r == NULL ? 0 : r->moved, &value);
  return value;
}

static void on_handle_collected(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  relay_t *r = data;
  r->handle_collected = 1;
  maybe_free(r);
}

static napi_value throw_errno(napi_env env, const char *what) {
  char code[16];
  snprintf(code, sizeof code, "%d", errno);
  napi_throw_error(env, code, what);
  return NULL;
}

static napi_value relay(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t source, destination;
  int64_t bytes;
  napi_valuetype callback_type = napi_undefined;
  if (argc == 4) napi_typeof(env, argv[3], &callback_type);
  if (argc != 4 || napi_get_value_int32(env, argv[0], &source) != napi_ok ||
      napi_get_value_int32(env, argv[1], &destination) != napi_ok ||
      napi_get_value_int64(env, argv[2], &bytes) != napi_ok || bytes <= 0 || source < 0 ||
      destination < 0 || callback_type != napi_function) {
    napi_throw_type_error(env, NULL, "relay(sourceFd, destinationFd, bytes > 0, done)");
    return NULL;
  }
  int p[2];
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) return throw_errno(env, "pipe2");
  // A larger pipe takes a whole body in fewer splices; the default still works.
  fcntl(p[1], F_SETPIPE_SZ, CHUNK);
  int source_fd = fcntl(source, F_DUPFD_CLOEXEC, 0);
  int destination_fd = source_fd < 0 ? -1 : fcntl(destination, F_DUPFD_CLOEXEC, 0);
  if (destination_fd < 0) {
    int saved = errno;
    if (source_fd >= 0) close(source_fd);
    close(p[0]);
    close(p[1]);
    errno = saved;
    return throw_errno(env, "dup");
  }
  relay_t *r = calloc(1, sizeof *r);
  r->source_fd = source_fd;
  r->destination_fd = destination_fd;
  r->pipe_read = p[0];
  r->pipe_write = p[1];
  r->remaining = bytes;
  r->env = env;
  napi_create_reference(env, argv[3], 1, &r->callback);
  napi_value handle, name, cancel_fn, moved_fn;
  napi_create_object(env, &handle);
  napi_create_function(env, "cancel", NAPI_AUTO_LENGTH, cancel, NULL, &cancel_fn);
  napi_create_function(env, "moved", NAPI_AUTO_LENGTH, moved, NULL, &moved_fn);
  napi_set_named_property(env, handle, "cancel", cancel_fn);
  napi_set_named_property(env, handle, "moved", moved_fn);
  napi_wrap(env, handle, r, on_handle_collected, NULL, NULL);
  napi_create_reference(env, handle, 1, &r->handle);
  napi_create_string_utf8(env, "PierSplice", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, handle, name, &r->async_context);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &r->source_poll, source_fd);
  uv_poll_init(loop, &r->destination_poll, destination_fd);
  r->source_poll.data = r;
  r->destination_poll.data = r;
  r->open_handles = 2;
  uv_poll_start(&r->source_poll, UV_READABLE, on_source_readable);
  return handle;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "relay", NAPI_AUTO_LENGTH, relay, NULL, &fn);
  napi_set_named_property(env, exports, "relay", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
