# Sourced by the tools/ scripts: finds a JDK with the Vector API (21 or newer) and Maven.
# Sets BP_ROOT, JAVA_HOME, BP_JAVA and BP_MVN, or explains what to install and exits 1.

BP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BP_MIN_JAVA=21

# Prints the feature version (17, 21, 25, ...) of the JDK in directory $1, or nothing.
bp_java_version() {
    local home="$1" v=""
    [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
    if [ -f "$home/release" ]; then
        v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$home/release")
    fi
    if [ -z "$v" ]; then
        v=$("$home/bin/java" -XshowSettings:properties -version 2>&1 \
            | sed -n 's/^ *java.specification.version = \([0-9][0-9]*\).*/\1/p')
    fi
    echo "$v"
}

bp_find_jdk() {
    local v candidate best="" best_v=0
    if [ -n "${JAVA_HOME:-}" ]; then
        v=$(bp_java_version "$JAVA_HOME")
        if [ -n "$v" ] && [ "$v" -ge "$BP_MIN_JAVA" ]; then
            echo "$JAVA_HOME"
            return
        fi
    fi
    for candidate in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*; do
        [ -d "$candidate" ] || continue
        v=$(bp_java_version "$candidate")
        if [ -n "$v" ] && [ "$v" -ge "$BP_MIN_JAVA" ] && [ "$v" -gt "$best_v" ]; then
            best="$candidate"
            best_v="$v"
        fi
    done
    if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
        candidate=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
        v=$(bp_java_version "$candidate")
        if [ -n "$v" ] && [ "$v" -ge "$BP_MIN_JAVA" ]; then
            best="$candidate"
        fi
    fi
    echo "$best"
}

BP_JDK=$(bp_find_jdk)
if [ -z "$BP_JDK" ]; then
    {
        echo "bp: no JDK $BP_MIN_JAVA or newer found (bp needs the Vector API, jdk.incubator.vector)."
        echo "    Looked at JAVA_HOME (${JAVA_HOME:-unset}), /usr/lib/jvm/*, /opt/java/* and javac on the PATH."
        echo "    Install one, e.g. 'apt-get install openjdk-21-jdk' (Debian 13, Ubuntu 24.04) or Temurin 25"
        echo "    (https://adoptium.net), then run again or set JAVA_HOME to it."
    } >&2
    exit 1
fi
export JAVA_HOME="$BP_JDK"
BP_JAVA="$JAVA_HOME/bin/java"

if command -v mvn >/dev/null 2>&1; then
    BP_MVN=mvn
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bp: Maven is missing; installing it with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven) >&2 || {
        echo "bp: could not install Maven; install it ('apt-get install maven') and run again" >&2
        exit 1
    }
    BP_MVN=mvn
else
    echo "bp: Maven (mvn) is needed to build bp; install it, e.g. 'apt-get install maven'" >&2
    exit 1
fi
# Maven's own JVM warnings (Unsafe in its bundled Guava) are noise for bp users.
export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED"
if [ "$(bp_java_version "$JAVA_HOME")" -ge 23 ]; then
    export MAVEN_OPTS="$MAVEN_OPTS --sun-misc-unsafe-memory-access=allow"
fi

# JVM flags for running bp: tools/jvm.flags (the one list, with the reasons), and 2 MB pages when
# the kernel offers them: the 200 MB a dataset like Fashion-MNIST fills are touched for the first
# time in 2 MB pages instead of 4 KB ones (a page fault here costs about 10 µs).
mapfile -t BP_JVM_FLAGS < <(grep -v -e '^#' -e '^[[:space:]]*$' "$BP_ROOT/tools/jvm.flags")
if grep -qs '\[\(always\|madvise\)\]' /sys/kernel/mm/transparent_hugepage/enabled; then
    BP_JVM_FLAGS+=(-XX:+UseTransparentHugePages)
fi
# The garbage collector of tools/bp and bench/run: Parallel, unless the environment chooses one (two
# collectors on one command line stop the JVM). bp allocates nothing while it trains, so pauses do
# not matter, and with G1, the JVM's default, training ran slower: bp bench train --batch 128
# --threads 2, nine alternating pairs, 80-92 k samples/s against 91-101 k with Parallel (README,
# "The garbage collector"). Not in tools/jvm.flags: Spark's executors and the tests keep the
# collector they are given.
if printf '%s ' "${JAVA_TOOL_OPTIONS:-}" "${JDK_JAVA_OPTIONS:-}" "${BP_JAVA_OPTS:-}" | grep -q -- '-XX:+Use[A-Za-z0-9]*GC'; then
    BP_GC_FLAGS=()
else
    BP_GC_FLAGS=(-XX:+UseParallelGC)
fi
# The command line's flags: the first epoch nearly as fast as the others, because bp train
# compiles the kernels while the data loads (bp.kernel.KernelWarmup) and these let C2 compile a
# kernel after a twentieth of the usual calls, with three C2 threads so that the kernels compile
# side by side. Only where the warm-up runs first (tools/bp train, bench/run default): compiled
# that early without it, on a profile that has not yet seen every path, a kernel can keep calls
# it did not inline, which box vectors (AllocationTest caught 1-15 KB a step).
# Tier2BackedgeNotifyFreqLog: code that C1 compiled without full profiling (level 2, which the JIT
# picks while C2's queue is long, as it is during the warm-up) no longer asks for on-stack
# replacement of its loops. Otherwise a kernel's k-loop asked C2 for an OSR compile before its calls
# asked for a normal one: a 6x4 block's OSR compile took 0.9-1.8 s of C2's time, and the normal one
# waited for it (one compile per method at a time), the kernel meanwhile running in the fallback.
# In four JFR-recorded warm-ups C2's total went from 4.0-5.1 s to 3.1-3.3 s.
BP_CLI_FLAGS=("${BP_JVM_FLAGS[@]}" "${BP_GC_FLAGS[@]}" "-XX:CompileCommand=CompileThresholdScaling,bp.kernel.VectorKernels::*,0.05"
    -XX:CICompilerCount=4 -XX:Tier2BackedgeNotifyFreqLog=20)

# Runs a JVM command line in place of this shell (same process, so a signal or `kill` reaches
# the JVM itself, and its exit status is the script's), dropping from stderr only the line in
# which the JVM announces the incubating Vector API on every start; stdout is untouched.
bp_exec_quiet() {
    exec "$@" 2> >(grep --line-buffered -v -x 'WARNING: Using incubator modules: jdk.incubator.vector' >&2)
}
