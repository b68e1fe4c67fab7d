// The power-loss test's write recorder: an LD_PRELOAD library that logs every write to and
// every sync of a store's `data.mdb` and of its write-ahead log `data.wal` (including the file
// it is created under, `data.wal.PID.new`) in the process, in the order they happen, so that the
// test can rebuild the files as a disk could hold them at any moment of a power cut.
//
// The log (path in WRITE_RECORDER_LOG) is a sequence of records, little-endian:
//   'W' u8 flags u64 offset u32 length, then the bytes   a write that returned
//   'S' u8 file                                           an fsync/fdatasync that returned
//   'M' u32 length, then the text                         a line of the program's own
// In "flags", bit 0 is set for a descriptor opened with O_DSYNC or O_SYNC (LMDB writes its meta
// page through one): such a write is on disk when it returns; bit 1 for the log. "file" is 0 for
// `data.mdb`, 1 for the log. The program marks its own lines
// through `write_recorder_mark` (found with dlsym). One lock covers each call and its record,
// so the log's order is the order the calls took effect in.
//
// Compiled by the test itself (`cc -shared -fPIC`); not part of the package.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 4096
static int log_fd = -1;
// 0: not tracked; otherwise 1 | 2 for O_DSYNC/O_SYNC | 4 for the log
static unsigned char tracked[MAX_FDS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

// Writes one whole record with a single writev, so that a process ending while another thread
// records (exit() does not wait for threads) leaves either the whole record or none of it.
static void append_record(const void *head, size_t head_count, const void *bytes, size_t count) {
    struct iovec parts[2] = {{(void *)head, head_count}, {(void *)bytes, count}};
    size_t total = head_count + count;
    ssize_t n = syscall(SYS_writev, log_fd, parts, count > 0 ? 2 : 1);
    if (n < 0 || (size_t)n == total) return;
    // A short write (rare on a regular file): finish it piece by piece.
    size_t done = (size_t)n;
    for (int i = 0; i < 2; i++) {
        const char *p = parts[i].iov_base;
        size_t length = parts[i].iov_len;
        if (done >= length) { done -= length; continue; }
        p += done; length -= done; done = 0;
        while (length > 0) {
            ssize_t m = syscall(SYS_write, log_fd, p, length);
            if (m <= 0) return;
            p += m;
            length -= (size_t)m;
        }
    }
}

static void record_write(int fd, off_t offset, const void *bytes, size_t count) {
    unsigned char head[14];
    uint64_t off = (uint64_t)offset;
    uint32_t len = (uint32_t)count;
    head[0] = 'W';
    head[1] = ((tracked[fd] & 2) ? 1 : 0) | ((tracked[fd] & 4) ? 2 : 0);
    memcpy(head + 2, &off, 8);
    memcpy(head + 10, &len, 4);
    append_record(head, sizeof head, bytes, count);
}

static int is_tracked(int fd) { return log_fd >= 0 && fd >= 0 && fd < MAX_FDS && tracked[fd]; }

__attribute__((constructor)) static void start(void) {
    const char *path = getenv("WRITE_RECORDER_LOG");
    if (path) log_fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
}

void write_recorder_mark(const char *line) {
    if (log_fd < 0) return;
    pthread_mutex_lock(&lock);
    uint32_t len = (uint32_t)strlen(line);
    unsigned char head[5] = {'M'};
    memcpy(head + 1, &len, 4);
    append_record(head, sizeof head, line, len);
    pthread_mutex_unlock(&lock);
}

static void note_open(int fd, const char *path, int flags) {
    if (fd < 0 || fd >= MAX_FDS || !path) return;
    size_t n = strlen(path);
    int data = n >= 9 && strcmp(path + n - 9, "/data.mdb") == 0;
    const char *base = strrchr(path, '/');
    int wal = base && strncmp(base, "/data.wal", 9) == 0;
    tracked[fd] = (data || wal) ? (1 | ((flags & (O_DSYNC | O_SYNC)) ? 2 : 0) | (wal ? 4 : 0)) : 0;
}

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*close_fn)(int);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef int (*sync_fn)(int);

// The next definition of `name` (libc's), looked up once.
#define REAL(name, type) static type real_##name; if (!real_##name) real_##name = (type)dlsym(RTLD_NEXT, #name)

static int open_common(const char *name, int dirfd, const char *path, int flags, mode_t mode) {
    int fd;
    if (dirfd == -100000) {
        REAL(open, open_fn);
        fd = real_open(path, flags, mode);
    } else {
        REAL(openat, openat_fn);
        fd = real_openat(dirfd, path, flags, mode);
    }
    (void)name;
    note_open(fd, path, flags);
    return fd;
}

int open(const char *path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list args; va_start(args, flags); mode = va_arg(args, mode_t); va_end(args); }
    return open_common("open", -100000, path, flags, mode);
}

int open64(const char *path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list args; va_start(args, flags); mode = va_arg(args, mode_t); va_end(args); }
    return open_common("open64", -100000, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list args; va_start(args, flags); mode = va_arg(args, mode_t); va_end(args); }
    return open_common("openat", dirfd, path, flags, mode);
}

int close(int fd) {
    REAL(close, close_fn);
    if (fd >= 0 && fd < MAX_FDS) tracked[fd] = 0;
    return real_close(fd);
}

ssize_t pwrite(int fd, const void *bytes, size_t count, off_t offset) {
    REAL(pwrite, pwrite_fn);
    if (!is_tracked(fd)) return real_pwrite(fd, bytes, count, offset);
    pthread_mutex_lock(&lock);
    ssize_t n = real_pwrite(fd, bytes, count, offset);
    if (n > 0) record_write(fd, offset, bytes, (size_t)n);
    pthread_mutex_unlock(&lock);
    return n;
}

ssize_t pwrite64(int fd, const void *bytes, size_t count, off_t offset) { return pwrite(fd, bytes, count, offset); }

static void record_vector(int fd, off_t offset, const struct iovec *iov, int count, ssize_t written) {
    for (int i = 0; i < count && written > 0; i++) {
        size_t part = iov[i].iov_len < (size_t)written ? iov[i].iov_len : (size_t)written;
        record_write(fd, offset, iov[i].iov_base, part);
        offset += (off_t)part;
        written -= (ssize_t)part;
    }
}

ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t offset) {
    REAL(pwritev, pwritev_fn);
    if (!is_tracked(fd)) return real_pwritev(fd, iov, count, offset);
    pthread_mutex_lock(&lock);
    ssize_t n = real_pwritev(fd, iov, count, offset);
    record_vector(fd, offset, iov, count, n);
    pthread_mutex_unlock(&lock);
    return n;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int count, off_t offset) { return pwritev(fd, iov, count, offset); }

ssize_t write(int fd, const void *bytes, size_t count) {
    REAL(write, write_fn);
    if (!is_tracked(fd)) return real_write(fd, bytes, count);
    pthread_mutex_lock(&lock);
    off_t offset = lseek(fd, 0, SEEK_CUR);
    ssize_t n = real_write(fd, bytes, count);
    if (n > 0) record_write(fd, offset, bytes, (size_t)n);
    pthread_mutex_unlock(&lock);
    return n;
}

ssize_t writev(int fd, const struct iovec *iov, int count) {
    REAL(writev, writev_fn);
    if (!is_tracked(fd)) return real_writev(fd, iov, count);
    pthread_mutex_lock(&lock);
    off_t offset = lseek(fd, 0, SEEK_CUR);
    ssize_t n = real_writev(fd, iov, count);
    record_vector(fd, offset, iov, count, n);
    pthread_mutex_unlock(&lock);
    return n;
}

static int record_sync(int fd, int (*sync)(int)) {
    if (!is_tracked(fd)) return sync(fd);
    pthread_mutex_lock(&lock);
    int rc = sync(fd);
    if (rc == 0) {
        char record[2] = {'S', (tracked[fd] & 4) ? 1 : 0};
        append_record(record, 2, NULL, 0);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

int fsync(int fd) {
    REAL(fsync, sync_fn);
    return record_sync(fd, real_fsync);
}

int fdatasync(int fd) {
    REAL(fdatasync, sync_fn);
    return record_sync(fd, real_fdatasync);
}
