using System.IO.MemoryMappedFiles;
using Tessera.Cluster.Native;

namespace Tessera.Cluster.Scheduling;

/// <summary>
/// The cores of a host as tokens that the workers of one cluster on it take turns with, run by run: a stage takes
/// tokens (one per session thread) before it computes a run and gives them back right after, before it sends the
/// outputs on, so the kernel sees only as many computing stage threads as there are cores. Without them, three
/// one-thread stages on two cores were time-sliced by the kernel, which queued a woken stage behind a busy core while
/// the other idled and let the cheap stage wait for a core as long as it computed (docs/architecture.md, Cluster).
/// A semaphore in shared memory (/dev/shm/tessera-cores-UID-KEY, mode 0600, made by the first worker and kept for the
/// next), first come first served: each taker gets a slot with a ticket, and a giver hands its tokens to the oldest
/// waiters it can satisfy and wakes exactly them (a futex on the slot's state), so the woken waiter takes the core the
/// giver leaves. Tokens are never held across a send, a receive or a collective, so a holder never waits for another
/// process and no cycle can form. A process that dies holding tokens (or waiting for them) leaves its pid in its slot:
/// a waiter that waited <see cref="ReclaimCheck"/> looks for slots of dead processes and frees them.
/// Layout (int32 words): magic, lock (the holder's pid, 0 when free), threads sleeping on the lock, cores, free
/// tokens, next ticket; from byte 64, <see cref="SlotCount"/> slots of eight words: pid, state (<see cref="Free"/>,
/// <see cref="Waiting"/>, <see cref="Holding"/>), tokens, ticket, thread id, pinned (by its giver, see <see cref="GrantUnsynchronized"/>).
/// </summary>
internal sealed unsafe partial class HostCoreTokens : IDisposable
{
    /// <summary>How long a waiter sleeps before it looks for holders that died.</summary>
    public static readonly TimeSpan ReclaimCheck = TimeSpan.FromMilliseconds(100);

    private const int Magic = 0x32524354; // "TCR2": this layout
    private const int Initializing = 1;
    private const int SlotCount = 64;
    private const int SlotsOffset = 64;
    private const int SlotBytes = 32;
    private const int FileBytes = 4096;
    private const int Free = 0;
    private const int Waiting = 1;
    private const int Holding = 2;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly int _pid = Environment.ProcessId;
    // The CPUs this process may use, which a thread pinned to the core it was handed gets back when it gives it up.
    private readonly ulong[] _allowed = new ulong[Libc.CpuMaskWords];
    private readonly bool _handOver;

    [ThreadStatic]
    private static int t_threadId;

    private HostCoreTokens(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, bool handOver)
    {
        Path = path;
        _handOver = handOver && Libc.GetAffinity(0, _allowed);
        _file = file;
        _view = view;
        byte* data = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref data);
        _base = data + _view.PointerOffset;
    }

    /// <summary>The file the tokens live in.</summary>
    public string Path { get; }

    /// <summary>The tokens there are: the cores the first worker found (or was told), whoever opens them later.</summary>
    public int Cores => Volatile.Read(ref *Word(3));

    private int* Word(int index) => (int*)_base + index;

    private int* SlotWord(int slot, int field) => (int*)(_base + SlotsOffset + (slot * SlotBytes)) + field;

    /// <summary>
    /// Takes <paramref name="count"/> tokens (at most <see cref="Cores"/>), waiting behind those who asked before;
    /// gives the slot to hand to <see cref="Give"/>, or -1 when every slot is in use (the run then goes without).
    /// </summary>
    public int Take(int count)
    {
        count = Math.Clamp(count, 1, Cores);
        int slot;
        Lock();
        try
        {
            slot = FreeSlotUnsynchronized();
            if (slot < 0) return -1;
            *SlotWord(slot, 0) = _pid;
            *SlotWord(slot, 2) = count;
            *SlotWord(slot, 3) = (*Word(5))++;
            *SlotWord(slot, 4) = t_threadId != 0 ? t_threadId : (t_threadId = Libc.ThreadId());
            *SlotWord(slot, 5) = 0;
            // First come first served: tokens go to a newcomer only when nobody waits.
            if (OldestWaiterUnsynchronized() < 0 && *Word(4) >= count)
            {
                *Word(4) -= count;
                Volatile.Write(ref *SlotWord(slot, 1), Holding);
                return slot;
            }

            Volatile.Write(ref *SlotWord(slot, 1), Waiting);
        }
        finally
        {
            Unlock();
        }

        int* state = SlotWord(slot, 1);
        while (Volatile.Read(ref *state) == Waiting)
        {
            Libc.FutexWait(state, Waiting, (int)(ReclaimCheck.Ticks / TimeSpan.TicksPerMicrosecond));
            if (Volatile.Read(ref *state) == Waiting) Reclaim();
        }

        return slot;
    }

    /// <summary>Gives back the tokens of <paramref name="slot"/> (from <see cref="Take"/>; -1 does nothing) and wakes the waiters they satisfy.</summary>
    public void Give(int slot)
    {
        if (slot < 0) return;
        bool pinned = *SlotWord(slot, 5) != 0;
        ulong woken;
        Lock();
        try
        {
            int count = *SlotWord(slot, 2);
            *Word(4) += count;
            Volatile.Write(ref *SlotWord(slot, 1), Free);
            // The core this thread leaves is the one it runs on now: the waiter it goes to is pinned there.
            woken = GrantUnsynchronized(_handOver && count == 1 ? Libc.CurrentCpu() : -1);
        }
        finally
        {
            Unlock();
        }

        Wake(woken);
        // Free to run anywhere again (to wake on whichever core is idle when its next RUN comes).
        if (pinned) Libc.SetAffinity(0, _allowed);
    }

    /// <summary>
    /// Frees the slots of processes that ended (their tokens back to the free ones, their place in line gone) and
    /// hands the tokens on; what a waiter does every <see cref="ReclaimCheck"/>.
    /// </summary>
    public void Reclaim()
    {
        ulong woken;
        Lock();
        try
        {
            for (int slot = 0; slot < SlotCount; slot++)
            {
                int state = *SlotWord(slot, 1);
                int pid = *SlotWord(slot, 0);
                if (state == Free || pid == _pid || Libc.ProcessLives(pid)) continue;
                if (state == Holding) *Word(4) += *SlotWord(slot, 2);
                Volatile.Write(ref *SlotWord(slot, 1), Free);
            }

            woken = GrantUnsynchronized(-1);
        }
        finally
        {
            Unlock();
        }

        Wake(woken);
    }

    /// <summary>What the slots hold now, in ticket order: pid, whether it holds (else waits), tokens (for tests and diagnostics).</summary>
    public List<(int Pid, bool Holds, int Tokens)> Snapshot()
    {
        var taken = new List<(int Ticket, int Pid, bool Holds, int Tokens)>();
        Lock();
        try
        {
            for (int slot = 0; slot < SlotCount; slot++)
            {
                int state = *SlotWord(slot, 1);
                if (state != Free) taken.Add((*SlotWord(slot, 3), *SlotWord(slot, 0), state == Holding, *SlotWord(slot, 2)));
            }
        }
        finally
        {
            Unlock();
        }

        taken.Sort((a, b) => Math.Sign(a.Ticket - b.Ticket));
        return [.. taken.Select(t => (t.Pid, t.Holds, t.Tokens))];
    }

    /// <summary>The free tokens now.</summary>
    public int FreeTokens => Volatile.Read(ref *Word(4));

    private int FreeSlotUnsynchronized()
    {
        for (int slot = 0; slot < SlotCount; slot++)
        {
            if (*SlotWord(slot, 1) == Free) return slot;
        }

        return -1;
    }

    /// <summary>The waiting slot with the oldest ticket (tickets wrap: compared by their difference), or -1.</summary>
    private int OldestWaiterUnsynchronized()
    {
        int oldest = -1;
        for (int slot = 0; slot < SlotCount; slot++)
        {
            if (*SlotWord(slot, 1) == Waiting && (oldest < 0 || *SlotWord(slot, 3) - *SlotWord(oldest, 3) < 0)) oldest = slot;
        }

        return oldest;
    }

    /// <summary>
    /// Hands free tokens to the oldest waiters while the oldest fits (strict order); the slots to wake, as bits. With
    /// <paramref name="cpu"/> (the one core a giver leaves), the first waiter granted, if it takes one token, is pinned
    /// there before it wakes: else the kernel may queue it behind the other core's run (under SCHED_BATCH nothing
    /// preempts that for its whole slice) while the core it was handed idles (b15's trace: one run in progress 22.5% of
    /// the window with a token free, against 14.2% without tokens).
    /// </summary>
    private ulong GrantUnsynchronized(int cpu)
    {
        ulong woken = 0;
        while (OldestWaiterUnsynchronized() is int slot and >= 0 && *Word(4) >= *SlotWord(slot, 2))
        {
            *Word(4) -= *SlotWord(slot, 2);
            if (cpu >= 0 && woken == 0 && *SlotWord(slot, 2) == 1 && Libc.SetAffinityToCpu(*SlotWord(slot, 4), cpu))
            {
                *SlotWord(slot, 5) = 1;
            }

            Volatile.Write(ref *SlotWord(slot, 1), Holding);
            woken |= 1UL << slot;
        }

        return woken;
    }

    /// <summary>Wakes the slots granted (after the lock is let go: a woken waiter never spins on it). A slot reused meanwhile only sees a spurious wake.</summary>
    private void Wake(ulong slots)
    {
        while (slots != 0)
        {
            int slot = System.Numerics.BitOperations.TrailingZeroCount(slots);
            slots &= slots - 1;
            Libc.FutexWake(SlotWord(slot, 1));
        }
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
