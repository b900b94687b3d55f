"""Several verified patients on one phone (MPSP): ask who is texting, once again if unclear, then leave it to staff."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.rules.conversations import PatientMatch


@dataclass(frozen=True)
class MpspStep:
    prompt: str | None = None
    chosen: PatientMatch | None = None


def prompt_for(matches: list[PatientMatch]) -> str:
    # First names only: the prompt goes to a shared phone, not to one verified person.
    options = "; ".join(f"{n} for {m.name.split()[0]}" for n, m in enumerate(matches, start=1))
    return f"Who is texting? Reply with a number: {options}."


def next_step(matches: list[PatientMatch], prompts_sent: int, reply: str) -> MpspStep:
    if prompts_sent == 0:
        return MpspStep(prompt=prompt_for(matches))
    answer = reply.strip().rstrip(".").strip()
    if answer.isdigit() and 1 <= int(answer) <= len(matches):
        return MpspStep(chosen=matches[int(answer) - 1])
    if prompts_sent == 1:
        return MpspStep(prompt="Sorry, we did not understand. " + prompt_for(matches))
    return MpspStep()
