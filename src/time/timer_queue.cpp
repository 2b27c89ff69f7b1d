// TimerQueue: a two-pass pairing heap (Fredman, Sedgewick, Sleator, Tarjan
// 1986) threaded through the timers. Each node links to its leftmost child,
// its right sibling, and back to its left sibling (or its parent, when it is
// a leftmost child), so any node can be cut out in O(1) and its children
// merged back in.
#include <xen/time/timer_queue.hpp>

namespace xen {

bool TimerQueue::before(const Timer& a, const Timer& b) noexcept
{
    if (a.latest_ != b.latest_)
        return a.latest_ < b.latest_;
    if (a.seq_ != b.seq_)
        return a.seq_ < b.seq_;
    return a.origin_ < b.origin_;
}

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

void TimerQueue::link(Timer& t) noexcept
{
    t.child_ = t.next_ = t.prev_ = nullptr;
    t.queue_ = this;
    root_ = meld(root_, &t);
    ++size_;
}

void TimerQueue::unlink(Timer& t) noexcept
{
    if (&t == root_) {
        root_ = merge_pairs(t.child_);
    } else {
        // Cut t out of its sibling list: t.prev_ is its parent when t is
        // the leftmost child, else its left sibling.
        if (t.prev_->child_ == &t)
            t.prev_->child_ = t.next_;
        else
            t.prev_->next_ = t.next_;
        if (t.next_ != nullptr)
            t.next_->prev_ = t.prev_;
        root_ = meld(root_, merge_pairs(t.child_));
    }
    t.child_ = t.next_ = t.prev_ = nullptr;
    t.queue_ = nullptr;
    --size_;
}

void TimerQueue::arm(Timer& t, uint64_t deadline_ns, uint64_t slack_ns) noexcept
{
    if (t.queue_ == this)
        unlink(t);
    uint64_t latest = 0;
    if (__builtin_add_overflow(deadline_ns, slack_ns, &latest))
        latest = ~uint64_t{0};
    t.deadline_ = deadline_ns;
    t.latest_ = latest;
    t.seq_ = next_seq_++;
    t.origin_ = owner_;
    link(t);
}

bool TimerQueue::cancel(Timer& t) noexcept
{
    if (t.queue_ != this)
        return false;
    unlink(t);
    return true;
}

Timer* TimerQueue::pop_due(uint64_t now_ns) noexcept
{
    if (root_ == nullptr || root_->deadline_ > now_ns)
        return nullptr;
    return pop();
}

Timer* TimerQueue::pop() noexcept
{
    Timer* t = root_;
    if (t != nullptr)
        unlink(*t);
    return t;
}

void TimerQueue::insert_keeping_order(Timer& t) noexcept
{
    link(t);
}

bool TimerQueue::set_owner(VcpuId owner) noexcept
{
    if (root_ != nullptr)
        return false;
    owner_ = owner.value;
    return true;
}

} // namespace xen
