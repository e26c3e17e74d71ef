# Sourced by the scripts that run the CLI (compare.sh, benchmarks/search/*.sh), from the source
# root. build_nascent_cli [setup.sh arguments]: installs missing Debian packages, configures and
# builds the nascent CLI in $BUILD_DIR (default build/), and sets $build and $nascent.
build_nascent_cli() {
    bash scripts/setup.sh "$@"
    build=${BUILD_DIR:-build}
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j2 --target nascent_cli >/dev/null
    nascent="$build/apps/nascent/nascent"
}
