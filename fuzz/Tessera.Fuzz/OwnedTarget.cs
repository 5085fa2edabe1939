namespace Tessera.Fuzz;

/// <summary>A target made by name and disposed after use when it holds resources (a listening socket).</summary>
internal sealed class OwnedTarget(string name) : IDisposable
{
    public FuzzTarget Value { get; } = FuzzTargets.Create(name);

    public void Dispose() => (Value as IDisposable)?.Dispose();
}
