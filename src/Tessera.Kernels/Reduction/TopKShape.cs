namespace Tessera.Kernels.Reduction;

/// <summary>A TopK problem as [Outer, Length, Inner] with K kept along the middle axis.</summary>
internal readonly record struct TopKShape(int Outer, int Length, int Inner, int K);
