namespace Tessera.Batch.Results;

/// <summary>An output of a finished job: element type, whole shape (axis 0 = records) and, in a folder, its file.</summary>
public sealed record OutputInfo(string Dtype, int[] Shape, string? File);
