namespace Tessera.Engine.Profiling;

/// <summary>Wall time one node of the optimised graph took over all profiled runs (step order = execution order).</summary>
public sealed record NodeTiming(int Step, string Name, string OpType, double TotalMs);
