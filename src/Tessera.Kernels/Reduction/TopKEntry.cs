namespace Tessera.Kernels.Reduction;

/// <summary>A candidate of TopK: a value and the position along the axis it came from.</summary>
internal struct TopKEntry<T> where T : unmanaged
{
    public T Value;
    public int Index;
}
