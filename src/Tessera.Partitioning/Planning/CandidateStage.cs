namespace Tessera.Partitioning.Planning;

/// <summary>One stage of a candidate: steps First..Last of the cost model's order and what it needs.</summary>
/// <param name="ParameterBytes">Per rank (split weights divided by the tensor-parallel degree).</param>
/// <param name="PeakMemoryBytes">Parameters plus the peak of live activations for the largest batch share.</param>
/// <param name="Seconds">Compute plus receiving its inputs, on its slowest replica.</param>
public sealed record CandidateStage(int First, int Last, long ParameterBytes, long PeakMemoryBytes, double Seconds);
