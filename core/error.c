/*
** error.c -- the error record and SQLAlchemy's exception hierarchy.
*/
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *name;
  rt_errkind parent;
} kinds[RT_ERRKIND_COUNT] = {
    [RT_OK] = {"OK", RT_OK},
    [RT_ESQLALCHEMY] = {"SQLAlchemyError", RT_OK},
    [RT_EARGUMENT] = {"ArgumentError", RT_ESQLALCHEMY},
    [RT_ECOMPILE] = {"CompileError", RT_ESQLALCHEMY},
    [RT_EINVALIDREQUEST] = {"InvalidRequestError", RT_ESQLALCHEMY},
    [RT_ENOSUCHTABLE] = {"NoSuchTableError", RT_EINVALIDREQUEST},
    [RT_ENOSUCHCOLUMN] = {"NoSuchColumnError", RT_EINVALIDREQUEST},
    [RT_ERESOURCECLOSED] = {"ResourceClosedError", RT_EINVALIDREQUEST},
    [RT_ETIMEOUT] = {"TimeoutError", RT_ESQLALCHEMY},
    [RT_EMEMORY] = {"MemoryError", RT_ESQLALCHEMY},
    [RT_EDBAPI] = {"DBAPIError", RT_ESTATEMENT},
    [RT_EINTERFACE] = {"InterfaceError", RT_EDBAPI},
    [RT_EDATABASE] = {"DatabaseError", RT_EDBAPI},
    [RT_EDATA] = {"DataError", RT_EDATABASE},
    [RT_EOPERATIONAL] = {"OperationalError", RT_EDATABASE},
    [RT_EINTEGRITY] = {"IntegrityError", RT_EDATABASE},
    [RT_EINTERNAL] = {"InternalError", RT_EDATABASE},
    [RT_EPROGRAMMING] = {"ProgrammingError", RT_EDATABASE},
    [RT_ENOTSUPPORTED] = {"NotSupportedError", RT_EDATABASE},
    [RT_ENORESULT] = {"NoResultFound", RT_EINVALIDREQUEST},
    [RT_EMULTIPLERESULTS] = {"MultipleResultsFound", RT_EINVALIDREQUEST},
    [RT_EOBJECTDELETED] = {"ObjectDeletedError", RT_EINVALIDREQUEST},
    [RT_ESTALEDATA] = {"StaleDataError", RT_ESQLALCHEMY},
    [RT_EDETACHED] = {"DetachedInstanceError", RT_ESQLALCHEMY},
    [RT_EUNMAPPED] = {"UnmappedError", RT_EINVALIDREQUEST},
    [RT_EUNMAPPEDINSTANCE] = {"UnmappedInstanceError", RT_EUNMAPPED},
    [RT_EFLUSH] = {"FlushError", RT_ESQLALCHEMY},
    /* a cancelled query surfaces as SQLAlchemy would show it: an
    ** OperationalError; the distinct kind lets the shell print "canceled" */
    [RT_ECANCELED] = {"OperationalError", RT_EDATABASE},
    [RT_ENOINSPECTION] = {"NoInspectionAvailable", RT_EINVALIDREQUEST},
    [RT_ENOTEXECUTABLE] = {"ObjectNotExecutableError", RT_EARGUMENT},
    [RT_EPENDINGROLLBACK] = {"PendingRollbackError", RT_EINVALIDREQUEST},
    /* not an SQLAlchemyError: what a dialect without sequences raises */
    [RT_ENOTIMPLEMENTED] = {"NotImplementedError", RT_OK},
    /* an error met while preparing a statement's execution, with the
    ** statement and the error it wraps (orig_kind) */
    [RT_ESTATEMENT] = {"StatementError", RT_ESQLALCHEMY},
    /* not an SQLAlchemyError: what Row.index raises, as a tuple's does */
    [RT_EVALUE] = {"ValueError", RT_OK},
    /* a join whose ON clause the foreign keys don't give */
    [RT_ENOFOREIGNKEYS] = {"NoForeignKeysError", RT_EARGUMENT},
    [RT_EAMBIGUOUSFKS] = {"AmbiguousForeignKeysError", RT_EARGUMENT},
    [RT_EUNBOUND] = {"UnboundExecutionError", RT_EINVALIDREQUEST},
    [RT_ELOADERSTRATEGY] = {"LoaderStrategyException", RT_EINVALIDREQUEST},
    [RT_EUNMAPPEDCLASS] = {"UnmappedClassError", RT_EUNMAPPED},
    /* not an SQLAlchemyError: what the flush raises when a removal would
    ** set part of a row's primary key to NULL, as SQLAlchemy's assert */
    [RT_EASSERTION] = {"AssertionError", RT_OK},
    /* a flush whose rows each need the other written first */
    [RT_ECIRCULARDEP] = {"CircularDependencyError", RT_ESQLALCHEMY},
    /* a foreign key whose target the MetaData doesn't hold */
    [RT_ENOREFERENCE] = {"NoReferenceError", RT_EINVALIDREQUEST},
    [RT_ENOREFTABLE] = {"NoReferencedTableError", RT_ENOREFERENCE},
    [RT_ENOREFCOLUMN] = {"NoReferencedColumnError", RT_ENOREFERENCE},
};

int rt_error_setv(rt_error *err, rt_errkind kind, const char *fmt, va_list ap) {
  char small[512];
  va_list aq;
  int n;
  if (err == NULL) return -1;
  va_copy(aq, ap);
  n = vsnprintf(small, sizeof small, fmt, aq);
  va_end(aq);
  free(err->message);
  err->message = NULL;
  err->kind = kind;
  err->code[0] = '\0';
  err->position = 0;
  if (n < 0) n = 0;
  err->message = malloc((size_t)n + 1);
  if (err->message == NULL) return -1; /* kind still says what failed */
  if ((size_t)n < sizeof small)
    memcpy(err->message, small, (size_t)n + 1);
  else
    vsnprintf(err->message, (size_t)n + 1, fmt, ap);
  return -1;
}

int rt_error_set(rt_error *err, rt_errkind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rt_error_setv(err, kind, fmt, ap);
  va_end(ap);
  return -1;
}

void rt_error_setcode(rt_error *err, const char *code) {
  if (err == NULL) return;
  snprintf(err->code, sizeof err->code, "%s", code ? code : "");
}

void rt_error_clear(rt_error *err) {
  if (err == NULL) return;
  free(err->message);
  err->message = NULL;
  err->kind = RT_OK;
  err->code[0] = '\0';
  err->position = 0;
}

void rt_error_move(rt_error *to, rt_error *from) {
  rt_error_clear(to);
  *to = *from;
  from->message = NULL;
  rt_error_clear(from);
}

const char *rt_errkind_name(rt_errkind kind) {
  if ((unsigned)kind >= RT_ERRKIND_COUNT) return "SQLAlchemyError";
  return kinds[kind].name;
}

rt_errkind rt_errkind_parent(rt_errkind kind) {
  if ((unsigned)kind >= RT_ERRKIND_COUNT) return RT_OK;
  return kinds[kind].parent;
}

rt_errkind rt_errkind_byname(const char *name) {
  int i;
  for (i = 1; i < RT_ERRKIND_COUNT; i++)
    if (strcmp(kinds[i].name, name) == 0) return (rt_errkind)i;
  return RT_OK;
}

int rt_errkind_isa(rt_errkind kind, rt_errkind ancestor) {
  /* compare by name so RT_ECANCELED counts as an OperationalError */
  const char *want = rt_errkind_name(ancestor);
  while (kind != RT_OK) {
    if (kind == ancestor || strcmp(rt_errkind_name(kind), want) == 0) return 1;
    kind = rt_errkind_parent(kind);
  }
  return 0;
}
