namespace Tessera.Cli.Bench.Gemm;

/// <summary>One shape's measurement: what ran, how many rows were checked, and its timed windows.</summary>
internal sealed record GemmBenchRow(GemmShape Shape, string Kernel, int CheckedRows, TimedWork Work);
