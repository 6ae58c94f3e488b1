// Clang thread-safety annotations (no-ops elsewhere). They document which mutex guards which
// member; clang's -Wthread-safety checks them where the mutex type is annotated.
#pragma once

#if defined(__clang__)
#define TOPOD_GUARDED_BY(x) __attribute__((guarded_by(x)))
#else
#define TOPOD_GUARDED_BY(x)
#endif
