// TimerQueue: a radix wheel over absolute time (a radix heap with 64-way
// digits) for timers at or above its base, and a two-pass pairing heap
// (Fredman, Sedgewick, Sleator, Tarjan 1986) for the few armed below it.
#include <xen/time/timer_queue.hpp>

namespace xen {

namespace {

// The wheel level where `key` first differs from `base` (key >= base).
uint32_t level_of(uint64_t key, uint64_t base) noexcept
{
    const uint64_t diff = key ^ base;
    if (diff == 0)
        return 0;
    return (63u - static_cast<uint32_t>(__builtin_clzll(diff))) / TimerQueue::digit_bits;
}

// Bits of a time above level `level` (the part a bucket of that level shares with the base).
uint64_t above(uint64_t key, uint32_t level) noexcept
{
    const uint32_t shift = (level + 1) * TimerQueue::digit_bits;
    return shift >= 64 ? 0 : (key >> shift) << shift;
}

} // namespace

bool TimerQueue::before(const Timer& a, const Timer& b) noexcept
{
    if (a.latest_ != b.latest_)
        return a.latest_ < b.latest_;
    return a.seq_ < b.seq_;
}

// --- the wheel ------------------------------------------------------------------

void TimerQueue::place(Timer& t) noexcept
{
    const uint32_t level = level_of(t.latest_, base_);
    const uint32_t bucket = static_cast<uint32_t>(t.latest_ >> (level * digit_bits)) & (fan - 1);
    t.level_ = static_cast<uint8_t>(level);
    t.bucket_ = static_cast<uint8_t>(bucket);
    Timer*& head = buckets_[level][bucket];
    if (head == nullptr) {
        t.next_ = t.prev_ = &t;
        occupied_[level] |= uint64_t{1} << bucket;
        head = &t;
    } else if (level != 0 || head->seq_ < t.seq_) {
        // The newest goes in front of the head; the oldest stays head->prev_.
        t.next_ = head;
        t.prev_ = head->prev_;
        head->prev_->next_ = &t;
        head->prev_ = &t;
        head = &t;
    } else {
        // A level-0 bucket is one time, kept in arming order. A timer
        // re-armed later in place (see arm) arrives here after timers
        // armed after it: it goes behind the last one armed before it.
        Timer* w = head;
        while (w != head->prev_ && w->next_->seq_ > t.seq_)
            w = w->next_;
        t.prev_ = w;
        t.next_ = w->next_;
        w->next_->prev_ = &t;
        w->next_ = &t;
    }
}

void TimerQueue::detach(Timer& t) noexcept
{
    Timer*& head = buckets_[t.level_][t.bucket_];
    if (t.next_ == &t) {
        head = nullptr;
        occupied_[t.level_] &= ~(uint64_t{1} << t.bucket_);
    } else {
        t.prev_->next_ = t.next_;
        t.next_->prev_ = t.prev_;
        if (head == &t)
            head = t.next_;
    }
}

// Level 0 is empty: move the first bucket of the lowest non-empty level one
// step down. Its timers all share the digits down to that level, so the
// base moves to the bucket's start (still <= each of them, and above every
// timer of a lower bucket, of which there is none) and each falls at least
// one level; except timers re-armed later in place (arm), which go wherever
// their time now says, at this level or above. Oldest first, so equal
// times keep their arming order (place sorts the rare late arrival).
void TimerQueue::cascade() noexcept
{
    uint32_t level = 1;
    while (occupied_[level] == 0)
        ++level;
    const uint32_t bucket = static_cast<uint32_t>(__builtin_ctzll(occupied_[level]));
    Timer* newest = buckets_[level][bucket];
    buckets_[level][bucket] = nullptr;
    occupied_[level] &= ~(uint64_t{1} << bucket);
    base_ = above(base_, level) | (uint64_t{bucket} << (level * digit_bits));
    // A bucket of one timer (most, on the levels that hold few timers each):
    // the base may move up to its time, and it falls straight to level 0
    // instead of one level per cascade. Not a timer re-armed later in place
    // whose time lies past this bucket.
    if (newest->next_ == newest && level_of(newest->latest_, base_) < level)
        base_ = newest->latest_;

    Timer* t = newest->prev_; // the oldest
    for (;;) {
        Timer* newer = t->prev_;
        const bool last = t == newest;
        place(*t);
        if (last)
            break;
        t = newer;
    }
}

Timer* TimerQueue::wheel_first() noexcept
{
    if (wheel_size_ == 0)
        return nullptr;
    for (;;) {
        while (occupied_[0] == 0)
            cascade();
        // Level 0 buckets hold exact times above the base's digits: the
        // lowest bucket holds the least time, and its oldest timer was armed
        // first, unless it was re-armed later in place: then it moves now.
        const uint32_t bucket = static_cast<uint32_t>(__builtin_ctzll(occupied_[0]));
        Timer* t = buckets_[0][bucket]->prev_;
        if (t->latest_ == ((base_ & ~uint64_t{fan - 1}) | bucket))
            return t;
        detach(*t);
        place(*t);
    }
}

// --- the overdue heap --------------------------------------------------------------

// Join two heap roots (each with no siblings and no parent): the later one
// becomes the leftmost child of the earlier one.
Timer* TimerQueue::meld(Timer* a, Timer* b) noexcept
{
    if (a == nullptr)
        return b;
    if (b == nullptr)
        return a;
    if (before(*b, *a)) {
        Timer* t = a;
        a = b;
        b = t;
    }
    b->prev_ = a;
    b->next_ = a->child_;
    if (a->child_ != nullptr)
        a->child_->prev_ = b;
    a->child_ = b;
    a->next_ = nullptr;
    a->prev_ = nullptr;
    return a;
}

// The two passes over a sibling list starting at `first`: meld neighbours
// left to right, then fold the results right to left into one heap. The
// first pass keeps its results on a stack threaded through next_, so the
// second pass runs from its top, i.e. right to left, with no extra memory.
Timer* TimerQueue::merge_pairs(Timer* first) noexcept
{
    Timer* stack = nullptr;
    Timer* a = first;
    while (a != nullptr) {
        Timer* b = a->next_;
        Timer* rest = b != nullptr ? b->next_ : nullptr;
        a->next_ = a->prev_ = nullptr;
        if (b != nullptr)
            b->next_ = b->prev_ = nullptr;
        Timer* m = meld(a, b);
        m->next_ = stack;
        stack = m;
        a = rest;
    }
    Timer* heap = nullptr;
    while (stack != nullptr) {
        Timer* below = stack->next_;
        stack->next_ = nullptr;
        heap = meld(heap, stack);
        stack = below;
    }
    return heap;
}

void TimerQueue::heap_remove(Timer& t) noexcept
{
    if (&t == overdue_) {
        overdue_ = merge_pairs(t.child_);
    } else {
        // Cut t out of its sibling list: t.prev_ is its parent when t is
        // the leftmost child, else its left sibling.
        if (t.prev_->child_ == &t)
            t.prev_->child_ = t.next_;
        else
            t.prev_->next_ = t.next_;
        if (t.next_ != nullptr)
            t.next_->prev_ = t.prev_;
        overdue_ = meld(overdue_, merge_pairs(t.child_));
    }
    t.child_ = nullptr;
}

// --- the queue ------------------------------------------------------------------

void TimerQueue::remove(Timer& t) noexcept
{
    if (t.level_ == overdue_level) {
        heap_remove(t);
    } else {
        detach(t);
        --wheel_size_;
        if (wheel_min_ == &t)
            wheel_min_ = nullptr;
    }
    t.next_ = t.prev_ = nullptr;
    t.queue_ = nullptr;
    --size_;
}

void TimerQueue::arm(Timer& t, uint64_t deadline_ns, uint64_t slack_ns) noexcept
{
    uint64_t latest = 0;
    if (__builtin_add_overflow(deadline_ns, slack_ns, &latest))
        latest = ~uint64_t{0};
    if (t.queue_ == this) {
        // Re-armed no earlier than the start of its bucket: it may stay
        // where it is, touching no other timer. Its bucket comes up no later
        // than its new time, and it moves then (cascade, wheel_first). Not
        // to the very time of a level-0 bucket: there its place in the list
        // is its place in arming order, which re-arming changes.
        const uint32_t level = t.level_;
        const uint64_t start = level == overdue_level
                                   ? ~uint64_t{0}
                                   : above(base_, level) | (uint64_t{t.bucket_} << (level * digit_bits));
        if (level != overdue_level && (latest > start || (latest == start && level != 0))) {
            t.deadline_ = deadline_ns;
            t.latest_ = latest;
            t.seq_ = next_seq_++;
            if (wheel_min_ == &t)
                wheel_min_ = nullptr;
            else if (wheel_min_ != nullptr && before(t, *wheel_min_))
                wheel_min_ = &t;
            return;
        }
        if (t.level_ != overdue_level) {
            // Its two neighbours are written next, and are rarely cached.
            __builtin_prefetch(t.next_, 1);
            __builtin_prefetch(t.prev_, 1);
        }
        remove(t);
    }
    t.deadline_ = deadline_ns;
    t.latest_ = latest;
    t.seq_ = next_seq_++;
    t.queue_ = this;
    t.child_ = nullptr;
    ++size_;
    if (latest < base_) {
        // Below where the wheel has moved on to: before every wheel timer.
        t.level_ = overdue_level;
        t.next_ = t.prev_ = nullptr;
        overdue_ = meld(overdue_, &t);
        return;
    }
    place(t);
    // Keep the wheel's first timer known when that is cheap: the newcomer
    // is first if it is before the known first (it cannot tie: it is the
    // newest), or if the wheel was empty.
    if (wheel_size_++ == 0 || (wheel_min_ != nullptr && before(t, *wheel_min_)))
        wheel_min_ = &t;
}

bool TimerQueue::cancel(Timer& t) noexcept
{
    if (t.queue_ != this)
        return false;
    remove(t);
    return true;
}

Timer* TimerQueue::first() noexcept
{
    if (overdue_ != nullptr)
        return overdue_; // below the base: before every wheel timer
    if (wheel_min_ == nullptr)
        wheel_min_ = wheel_first();
    return wheel_min_;
}

Timer* TimerQueue::pop_due(uint64_t now_ns) noexcept
{
    Timer* t = first();
    if (t == nullptr || t->deadline_ > now_ns)
        return nullptr;
    remove(*t);
    return t;
}

Timer* TimerQueue::pop() noexcept
{
    Timer* t = first();
    if (t != nullptr)
        remove(*t);
    return t;
}

} // namespace xen
