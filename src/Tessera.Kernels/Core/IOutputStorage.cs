namespace Tessera.Kernels.Core;

/// <summary>
/// Where <see cref="KernelContext.AllocateOutput"/> takes storage from when an executor plans memory: the engine's
/// per-session arena, which recycles a buffer once the last value over it is dead.
/// </summary>
internal unsafe interface IOutputStorage
{
    /// <summary>
    /// At least <paramref name="byteLength"/> bytes aligned to <see cref="Tessera.Tensors.Tensor.Alignment"/>, with
    /// uninitialized contents; <paramref name="owner"/> is what tensors over the storage must keep alive (and
    /// what the executor tracks through <see cref="Tessera.Tensors.Tensor.StorageOwner"/>).
    /// </summary>
    byte* Rent(int byteLength, out object owner);
}
