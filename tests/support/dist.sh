# Shared by the distributed training tests (tests/dist/*.sh): source it after
# `set -euo pipefail`. Adds to tests/support/cli.sh: `mpi NP ARGS...` runs
# `soma ARGS...` in NP processes over the transport SOMA_BTL (self,vader:
# shared memory; self,tcp: TCP on the loopback), keeping stdout, stderr and
# the status like run; `same A B` and `near A B` compare two checkpoints'
# weights (bit for bit; within 1e-5 relative); $tiny: 512 MNIST images.
source "${SOMA_SOURCE_DIR:?}/tests/support/cli.sh"
mpirun=${SOMA_MPIRUN:-mpirun}
btl=${SOMA_BTL:-self,vader}
compare=${SOMA_COMPARE:?set SOMA_COMPARE to the checkpoint_compare tool}
if ! command -v "$mpirun" >/dev/null; then
    echo "SKIP: no mpirun (apt-get install openmpi-bin)"
    exit 77
fi
# containers run as root; --oversubscribe: more processes than cores is fine here
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI's plugins stay loaded until exit, so that LeakSanitizer (in a
# sanitizer build) can name them in what MPI leaves allocated: tests/dist/lsan.supp
export OMPI_MCA_mca_base_component_disable_dlclose=1
mpi_flags=(--oversubscribe --mca btl "$btl" --mca btl_tcp_if_include lo)

mpi() {
    local np=$1
    shift
    set +e
    "$mpirun" "${mpi_flags[@]}" -np "$np" "$soma" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
}

same() { "$compare" "$1" "$2" --exact; }
near() { "$compare" "$1" "$2" --relative 1e-5; }

tiny="$tmp/tiny"
bash "$src/scripts/make-tiny-mnist.sh" "$tiny" 512
