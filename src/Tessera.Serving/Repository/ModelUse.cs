namespace Tessera.Serving.Repository;

/// <summary>A request's use of a served model version, from lookup to answer: the version is not retired under it.</summary>
internal readonly struct ModelUse : IDisposable
{
    public ModelUse(ServedModel model)
    {
        Model = model;
    }

    public ServedModel Model { get; }

    public void Dispose() => Model.Exit();
}
