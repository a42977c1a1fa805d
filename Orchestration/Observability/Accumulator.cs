using System.Collections.Concurrent;

namespace AspireLlm.Orchestration.Observability;

/// <summary>
/// Sums kept in memory per key and handed out (and reset) by <see cref="Drain"/>: what the hot path
/// pays is a dictionary lookup and an uncontended lock. A cell that stayed empty through a drain is
/// removed, and a writer that raced that removal writes again into a fresh cell, so nothing is lost.
/// </summary>
public sealed class Accumulator<TKey, TCell>
    where TKey : notnull
    where TCell : Accumulator<TKey, TCell>.Cell, new()
{
    private readonly ConcurrentDictionary<TKey, TCell> _cells = new();

    /// <summary>A cell's sums; <see cref="Take"/> copies them out and resets them (under the cell's lock).</summary>
    public abstract class Cell
    {
        internal bool Removed;

        public abstract bool IsEmpty { get; }

        public abstract TCell Take();
    }

    public int Count => _cells.Count;

    public void Update<TState>(TKey key, TState state, Action<TCell, TState> update)
    {
        while (true)
        {
            var cell = _cells.GetOrAdd(key, static _ => new TCell());
            lock (cell)
            {
                if (cell.Removed)
                {
                    continue;
                }

                update(cell, state);
                return;
            }
        }
    }

    /// <summary>Every non-empty cell's sums since the last drain; empty cells are dropped.</summary>
    public List<KeyValuePair<TKey, TCell>> Drain()
    {
        var taken = new List<KeyValuePair<TKey, TCell>>();
        foreach (var (key, cell) in _cells)
        {
            lock (cell)
            {
                if (cell.IsEmpty)
                {
                    cell.Removed = true;
                    _cells.TryRemove(new KeyValuePair<TKey, TCell>(key, cell));
                    continue;
                }

                taken.Add(new(key, cell.Take()));
            }
        }

        return taken;
    }
}
