/*
** error.h -- error kinds and the error record the C core fills in.
**
** Every fallible core function takes an `rt_error *` and returns a status
** (0 ok, -1 failed).  The kinds mirror SQLAlchemy's exception classes so the
** Lua layer can raise an object whose `kind` and `isa` match SQLAlchemy's.
*/
#ifndef RT_ERROR_H
#define RT_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/*
** Order matters only for the table in error.c; parents are looked up there.
*/
typedef enum rt_errkind {
  RT_OK = 0,
  RT_ESQLALCHEMY,       /* SQLAlchemyError: root of the hierarchy */
  RT_EARGUMENT,         /* ArgumentError */
  RT_ECOMPILE,          /* CompileError */
  RT_EINVALIDREQUEST,   /* InvalidRequestError */
  RT_ENOSUCHTABLE,      /* NoSuchTableError */
  RT_ENOSUCHCOLUMN,     /* NoSuchColumnError */
  RT_ERESOURCECLOSED,   /* ResourceClosedError */
  RT_ETIMEOUT,          /* TimeoutError (pool) */
  RT_EMEMORY,           /* MemoryError: an allocation failed */
  RT_EDBAPI,            /* DBAPIError */
  RT_EINTERFACE,        /* InterfaceError */
  RT_EDATABASE,         /* DatabaseError */
  RT_EDATA,             /* DataError */
  RT_EOPERATIONAL,      /* OperationalError */
  RT_EINTEGRITY,        /* IntegrityError */
  RT_EINTERNAL,         /* InternalError */
  RT_EPROGRAMMING,      /* ProgrammingError */
  RT_ENOTSUPPORTED,     /* NotSupportedError */
  RT_ENORESULT,         /* NoResultFound */
  RT_EMULTIPLERESULTS,  /* MultipleResultsFound */
  RT_EOBJECTDELETED,    /* ObjectDeletedError */
  RT_ESTALEDATA,        /* StaleDataError */
  RT_EDETACHED,         /* DetachedInstanceError */
  RT_EUNMAPPED,         /* UnmappedError */
  RT_EUNMAPPEDINSTANCE, /* UnmappedInstanceError */
  RT_EFLUSH,            /* FlushError */
  RT_ECANCELED,         /* OperationalError raised by a cancel (Ctrl-C) */
  RT_ENOINSPECTION,     /* NoInspectionAvailable */
  RT_ENOTEXECUTABLE,    /* ObjectNotExecutableError */
  RT_EPENDINGROLLBACK,  /* PendingRollbackError */
  RT_ENOTIMPLEMENTED,   /* Python's NotImplementedError (no sequences) */
  RT_ESTATEMENT,        /* StatementError: a statement could not run */
  RT_EVALUE,            /* Python's ValueError (Row.index of no value) */
  RT_ENOFOREIGNKEYS,    /* NoForeignKeysError: no join condition */
  RT_EAMBIGUOUSFKS,     /* AmbiguousForeignKeysError: several fit */
  RT_EUNBOUND,          /* UnboundExecutionError: a session with no bind */
  RT_ELOADERSTRATEGY,   /* LoaderStrategyException: no such lazy= value */
  RT_EUNMAPPEDCLASS,    /* UnmappedClassError */
  RT_EASSERTION,        /* Python's AssertionError (a dependency rule) */
  RT_ECIRCULARDEP,      /* CircularDependencyError: rows need each other */
  RT_ENOREFERENCE,      /* NoReferenceError */
  RT_ENOREFTABLE,       /* NoReferencedTableError: a foreign key's table */
  RT_ENOREFCOLUMN,      /* NoReferencedColumnError: a foreign key's column */
  RT_ERRKIND_COUNT
} rt_errkind;

typedef struct rt_error {
  rt_errkind kind;
  char code[16]; /* SQLSTATE, or the driver's error number, or "" */
  char *message; /* malloc'd, NUL-terminated; NULL when kind == RT_OK */
  int position;  /* 1-based character position in the SQL, or 0 */
} rt_error;

#define RT_ERROR_INIT                                                          \
  { RT_OK, "", NULL, 0 }

/* Set kind and a formatted message (replacing any previous one); returns -1
** so callers can write `return rt_error_set(err, ...);`. */
int rt_error_set(rt_error *err, rt_errkind kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int rt_error_setv(rt_error *err, rt_errkind kind, const char *fmt, va_list ap);
void rt_error_setcode(rt_error *err, const char *code);
void rt_error_clear(rt_error *err);
/* Move the contents of `from` to `to` (to is cleared first). */
void rt_error_move(rt_error *to, rt_error *from);

/* SQLAlchemy's class name of a kind, e.g. "IntegrityError". */
const char *rt_errkind_name(rt_errkind kind);
/* The parent kind in SQLAlchemy's hierarchy; RT_OK for the root. */
rt_errkind rt_errkind_parent(rt_errkind kind);
/* Look a kind up by its class name; RT_OK when unknown. */
rt_errkind rt_errkind_byname(const char *name);
/* Is `kind` the same as, or a descendant of, `ancestor`? */
int rt_errkind_isa(rt_errkind kind, rt_errkind ancestor);

#endif
