#include <mpi.h>

// Open MPI defines its predefined handles as macros taking the address of a global, which Swift cannot
// import; these return them.
static inline MPI_Comm pleat_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype pleat_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype pleat_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype pleat_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype pleat_mpi_char(void) { return MPI_CHAR; }
static inline MPI_Op pleat_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op pleat_mpi_max(void) { return MPI_MAX; }
static inline void *pleat_mpi_in_place(void) { return MPI_IN_PLACE; }
