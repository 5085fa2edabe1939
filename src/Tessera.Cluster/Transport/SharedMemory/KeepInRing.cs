using Tessera.Tensors;

namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>
/// An <see cref="OutputPlacement"/> that asks a coordinator's reader to leave results that came through shared memory
/// in the ring (tensors over it whose storage owner is a <see cref="RingLease"/>) instead of copying them out, for a
/// caller that gives them back (<see cref="Deployments.DeploymentOutputs"/>); a result that cannot stay there goes where
/// the wrapped placement puts it. Recognised by the delegate's target, so it travels through every layer an
/// <see cref="OutputPlacement"/> does (deployment, placement, stage, pending request) without a flag of its own.
/// </summary>
internal sealed class KeepInRing
{
    private readonly OutputPlacement? _otherwise;

    private KeepInRing(OutputPlacement? otherwise) => _otherwise = otherwise;

    /// <summary>Results kept in the ring where they can be, else placed by <paramref name="otherwise"/> (null: fresh tensors).</summary>
    public static OutputPlacement Around(OutputPlacement? otherwise) => new KeepInRing(otherwise).Place;

    /// <summary>Whether <paramref name="place"/> asks for results to stay in the ring.</summary>
    public static bool Asks(OutputPlacement? place) => place?.Target is KeepInRing;

    private Tensor? Place(string name, DataType dataType, int[] shape) => _otherwise?.Invoke(name, dataType, shape);
}
