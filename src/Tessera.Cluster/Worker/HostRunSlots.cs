using System.Runtime.InteropServices;
using System.Text;
using Tessera.Cluster.Native;

namespace Tessera.Cluster.Worker;

/// <summary>
/// A host-wide budget of stage runs at once: the workers of one host (one user, one IPC namespace) never compute more
/// runs together than the budget (the host's cores), so that a run is not time-sliced against a sibling worker's run
/// part-way and pays for refilling its caches (3 stage workers on 2 cores). A System V semaphore set of two: [0] the
/// free slots, [1] 1 once the set's creator has filled [0]. Taking slots waits for both in one atomic operation and
/// sleeps in the kernel (no CPU); it is marked <c>SEM_UNDO</c>, so the kernel gives back the slots of a worker that
/// dies however it dies (SIGKILL too). A worker alone on its host never waits (its runs are one at a time per model).
/// </summary>
internal sealed class HostRunSlots
{
    /// <summary>Set to <c>off</c> (or 0) to run without a budget, or to a number of slots; the host's cores when unset.</summary>
    public const string Variable = "TESSERA_RUN_SLOTS";

    // How long a taker sleeps before it checks that the set was filled: a creator that died between creating the set
    // and filling it (or one descheduled that long) would otherwise leave every worker of the host waiting forever.
    private const long CheckEveryMicroseconds = 1_000_000;

    // The set the calling thread holds slots of, plus one (0: none): a run holds them on the thread it computes on,
    // and the ring it writes its outputs into gives them up while it waits for room (RingOutputs) without being told which.
    [ThreadStatic]
    private static int t_heldSet;

    private readonly int _key;
    private readonly int _budget;
    private readonly short _weight;
    private int _id;

    private HostRunSlots(int key, int budget, int weight, int id)
    {
        _key = key;
        _budget = budget;
        _weight = (short)Math.Clamp(weight, 1, budget);
        _id = id;
    }

    /// <summary>Slots one run takes: the threads of the worker's sessions, at most the budget.</summary>
    public int Weight => _weight;

    /// <summary>
    /// The budget named <paramref name="name"/> (one per name and user on the host) of <paramref name="budget"/> slots,
    /// runs taking <paramref name="weight"/> each; null where System V semaphores are not available (another OS, a
    /// sandbox without them), and then runs go without a budget. The first worker of a host creates the set with its own
    /// budget; later ones take that set as it is.
    /// </summary>
    public static HostRunSlots? Open(string name, int budget, int weight)
    {
        if (!OperatingSystem.IsLinux() || budget < 1) return null;
        try
        {
            int key = KeyOf(name);
            int id = CreateOrOpen(key, budget);
            return id < 0 ? null : new HostRunSlots(key, budget, weight, id);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// The budget <see cref="Variable"/> sets for every worker: 0 for <c>off</c> (or 0), the number given, and
    /// <paramref name="cores"/> when unset or not a whole number from 0 to 4096.
    /// </summary>
    public static int FromEnvironment(int cores)
    {
        string? value = Environment.GetEnvironmentVariable(Variable)?.Trim();
        if (string.IsNullOrEmpty(value)) return cores;
        if (value.Equals("off", StringComparison.OrdinalIgnoreCase)) return 0;
        return int.TryParse(value, out int slots) && slots is >= 0 and <= 4096 ? slots : cores;
    }

    /// <summary>Free slots now (diagnostics and tests); -1 when the set is gone.</summary>
    public int Free => Libc.SemaphoreValue(_id, 0);

    /// <summary>Whether the calling thread holds slots (between its <see cref="Acquire"/> and <see cref="Release"/>).</summary>
    public static bool HeldHere => t_heldSet != 0;

    /// <summary>Takes <see cref="Weight"/> slots for the calling thread, sleeping until they are free.</summary>
    public void Acquire()
    {
        Span<Libc.SemaphoreOperation> take =
        [
            // Filled: wait for [1] >= 1 and leave it as it was.
            new(1, -1, 0),
            new(1, 1, 0),
            new(0, (short)-_weight, Libc.SemaphoreUndo),
        ];
        while (true)
        {
            int set = Volatile.Read(ref _id);
            int error = Libc.SemaphoreOperate(set, take, CheckEveryMicroseconds);
            if (error == 0)
            {
                t_heldSet = set + 1;
                return;
            }

            if (error == Libc.ErrorInterrupted) continue;
            if (error == Libc.ErrorAgain)
            {
                // Slots all taken for a second is a long run somewhere; a set never filled is a creator that died.
                if (Libc.SemaphoreValue(_id, 1) == 0) Libc.SemaphoreRemove(_id);
                continue;
            }

            if (error is Libc.ErrorRemoved or Libc.ErrorInvalid)
            {
                // Removed (above, by any worker of the host): the next set is made and filled afresh.
                int id = CreateOrOpen(_key, _budget);
                if (id < 0) throw new InvalidOperationException($"the host's run slots cannot be made again (errno {Marshal.GetLastPInvokeError()})");
                Volatile.Write(ref _id, id);
                continue;
            }

            throw new InvalidOperationException($"cannot take a host run slot (errno {error})");
        }
    }

    /// <summary>
    /// Takes <see cref="Weight"/> slots for the calling thread if they are free now, without waiting: a connection's
    /// frame thread, which must go on reading (heartbeats among its frames), hands a run it cannot start at once to
    /// the model's thread instead.
    /// </summary>
    public bool TryAcquire()
    {
        Span<Libc.SemaphoreOperation> take =
        [
            new(1, -1, Libc.IpcNoWait),
            new(1, 1, 0),
            new(0, (short)-_weight, Libc.SemaphoreUndo | Libc.IpcNoWait),
        ];
        int set = Volatile.Read(ref _id);
        if (Libc.SemaphoreOperate(set, take, -1) != 0) return false;
        t_heldSet = set + 1;
        return true;
    }

    /// <summary>Gives back the slots the calling thread's <see cref="Acquire"/> or <see cref="TryAcquire"/> took; nothing when it holds none.</summary>
    public void Release()
    {
        int set = t_heldSet - 1;
        if (set < 0) return;
        t_heldSet = 0;
        Span<Libc.SemaphoreOperation> give = [new(0, _weight, Libc.SemaphoreUndo)];
        int error;
        do
        {
            // To the set they came from: a set removed since (by hand: ipcrm) took its holders' slots with it, and
            // giving them to its successor, filled afresh, would raise the budget.
            error = Libc.SemaphoreOperate(set, give, -1);
        }
        while (error == Libc.ErrorInterrupted);
    }

    /// <summary>Removes the set from the host (tests: a set outlives its processes); its sleepers make a new one.</summary>
    internal void Remove() => Libc.SemaphoreRemove(_id);

    private static int CreateOrOpen(int key, int budget)
    {
        while (true)
        {
            int id = Libc.SemaphoreGet(key, 2, Libc.IpcCreate | Libc.IpcExclusive | 0x180);
            if (id >= 0)
            {
                // Fills the slots and marks the set filled in one operation (without SEM_UNDO: they outlive this worker).
                Span<Libc.SemaphoreOperation> fill = [new(0, (short)Math.Min(budget, short.MaxValue), 0), new(1, 1, 0)];
                int error = Libc.SemaphoreOperate(id, fill, -1);
                if (error == 0) return id;
                if (error is Libc.ErrorRemoved or Libc.ErrorInvalid) continue;
                return -1;
            }

            if (Marshal.GetLastPInvokeError() != Libc.ErrorExists) return -1;
            id = Libc.SemaphoreGet(key, 2, 0);
            // Removed between the two calls: create it.
            if (id >= 0 || Marshal.GetLastPInvokeError() is not (Libc.ErrorRemoved or Libc.ErrorInvalid or Libc.ErrorNoEntry)) return id;
        }
    }

    /// <summary>A System V key for <paramref name="name"/> and this user (FNV-1a): another user's workers have their own budget.</summary>
    private static int KeyOf(string name)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes($"tessera run slots {name} {Libc.UserId()}"))
        {
            hash = (hash ^ b) * 16777619;
        }

        // Key 0 is IPC_PRIVATE, which would make a new set for every worker.
        return hash == 0 ? 1 : (int)hash;
    }
}
