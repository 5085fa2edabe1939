namespace Tessera.Cli.Bench;

/// <summary>
/// One roof as `tessera roofline` measures it: <paramref name="Best"/> is the fastest window by the wall clock (the
/// least disturbed one, the figure the roofline has always printed), <paramref name="PerCpuSecond"/> the operations
/// of all windows over this process's CPU seconds in them. Under load from other processes the wall-clock windows lose
/// the time the thread waits for a core (about half on a shared 2-core machine), the CPU-second rate does not, so it
/// is the one to read rates per CPU second (bench-gemm's, bench's) against. Both in 10^9 operations per second.
/// </summary>
internal readonly record struct RoofRate(double Best, double PerCpuSecond);
