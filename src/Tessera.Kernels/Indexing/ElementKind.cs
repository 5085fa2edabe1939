namespace Tessera.Kernels.Indexing;

/// <summary>How a data-movement kernel should view a tensor's elements: as raw words of its size, or as strings.</summary>
internal enum ElementKind
{
    Size1,
    Size2,
    Size4,
    Size8,
    String,
}
