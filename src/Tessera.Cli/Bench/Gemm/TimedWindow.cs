namespace Tessera.Cli.Bench.Gemm;

/// <summary>One timed window: <see cref="Units"/> units of work in this much wall and process CPU time.</summary>
internal readonly record struct TimedWindow(double WallSeconds, double CpuSeconds, long Units);
