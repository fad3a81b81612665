"""Students, classes, teachers and achievement growth, one state and one year at a time.

Growth model (NAEP-like points; ``s`` subject, ``g`` grade, ``t`` spring year)::

    theta[i,t] = mu[g] + phi (theta[i,t-1] - mu[g-1])
                 + sum over the student's classes c of dosage[c] * (
                       tau[teacher(c), t] + eta[school(c)] + delta[district(c)]
                       + beta_P * P[district(c), t] + beta_P4P * D[district(c), t]
                       + beta_bonus * B[teacher(c), t] )
                 + sd_student * e[i,t]

``tau`` is AR(1) over years (coefficient ``teacher_ar``, stationary SD ``sd_teacher``),
``eta ~ N(0, sd_school^2)`` and ``delta ~ N(0, sd_district^2)`` are fixed over years,
``P`` is the district's latent practice index, ``D`` and ``B`` are 0/1 treatment
indicators (pay for performance, teacher bonus). A student first seen in grade g has a
status at grade g-1 of ``mu[g-1] + state + district + school status + x'gamma + u``
(``x``: FRL, LEP, disability, race/ethnicity, sex). Students advance a grade a year, move
from elementary to the district's middle school at grade 6, change school within
(``move_within``) or between (``move_between``) districts, leave (``exit_rate``) and
enter; ``midyear_move`` of them also spend the first part of the year (dosage 0.2-0.6)
in another school of the level (in the district when it has one). The observed score is the state test's transform of
``theta + CSEM error`` (see :mod:`pdstats.simulate.scales`); ``absent_rate`` of the
scores are missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pdstats.simulate import scales
from pdstats.simulate.world import World

__all__ = ["StateYear", "simulate_state", "RACES", "DEMO_SHIFT"]

RACES: tuple[str, ...] = ("black", "hispanic", "white", "asian", "other_race")
#: Status shifts (math, reading) in NAEP points.
DEMO_SHIFT = {
    "frl": (-9.0, -10.0), "lep": (-10.0, -15.0), "swd": (-20.0, -22.0), "female": (-2.0, 6.0),
    "black": (-14.0, -12.0), "hispanic": (-9.0, -9.0), "white": (0.0, 0.0), "asian": (8.0, 2.0),
    "other_race": (0.0, 0.0),
}  # fmt: skip
_ELEM, _MATH_T, _READ_T = 0, 1, 2  # teacher groups: self-contained, middle math, middle reading


@dataclass
class StateYear:
    """Everything one state produced in one year (student-level parts as DataFrames).

    Made by :func:`simulate_state` (see its example).
    """

    state: str
    year: int
    students: pd.DataFrame  # students first seen this year
    enrollments: pd.DataFrame
    scores: pd.DataFrame
    achievement: pd.DataFrame  # truth: student x subject true theta and testing school
    tested: pd.DataFrame  # compact frame for aggregation (indices, flags, score, level)
    effects: pd.DataFrame
    experiment: pd.DataFrame  # program_adoption rows of the teacher-bonus experiment


class _Students:
    """Arrays of the students currently enrolled in one state."""

    fields = ("sid", "school", "grade", "theta", "female", "race", "frl", "lep", "swd", "cohort")

    def __init__(self) -> None:
        self.sid = np.zeros(0, np.int64)
        self.school = np.zeros(0, np.int64)
        self.grade = np.zeros(0, np.int64)
        self.theta = np.zeros((0, 2))
        self.female = np.zeros(0, bool)
        self.race = np.zeros(0, np.int64)
        self.frl = np.zeros(0, bool)
        self.lep = np.zeros(0, bool)
        self.swd = np.zeros(0, bool)
        self.cohort = np.zeros(0, np.int64)

    def keep(self, mask: np.ndarray) -> None:
        for f in self.fields:
            setattr(self, f, getattr(self, f)[mask])

    def extend(self, other: _Students) -> None:
        for f in self.fields:
            setattr(self, f, np.concatenate([getattr(self, f), getattr(other, f)]))

    def __len__(self) -> int:
        return len(self.sid)


class _StateEngine:
    def __init__(self, world: World, p: dict, state: str, rng: np.random.Generator,
                 experiment_district: int) -> None:  # fmt: skip
        self.w, self.p, self.state, self.rng = world, p, state, rng
        self.fips = int(world.states.set_index("state").loc[state, "fips"])
        sch = world.schools
        self.sch_district = sch["district_index"].to_numpy()
        self.sch_elem = (sch["level"] == "elementary").to_numpy()
        self.per_grade = sch["per_grade"].to_numpy()
        dist_state = world.districts["state"].to_numpy()
        self.in_state = np.flatnonzero(dist_state[self.sch_district] == state)
        self.school_ids = sch["school_id"].to_numpy(dtype=object)
        self.district_ids = world.districts["district_id"].to_numpy(dtype=object)
        # block (district, level) of every school: start and length
        key = self.sch_district * 2 + (~self.sch_elem)
        start = np.zeros(len(sch), np.int64)
        length = np.zeros(len(sch), np.int64)
        for k in np.unique(key):
            idx = np.flatnonzero(key == k)
            start[idx], length[idx] = idx[0], len(idx)
        self.blk_start, self.blk_len = start, length
        self.mid_start = {}
        for d in np.unique(self.sch_district[self.in_state]):
            mids = np.flatnonzero((self.sch_district == d) & ~self.sch_elem)
            self.mid_start[d] = (mids[0], len(mids))
        self.exp_district = experiment_district
        self.pct_minority = world.districts["pct_minority"].to_numpy() / 100
        self.pct_lep = world.districts["pct_lep"].to_numpy() / 100
        self.pct_frl_school = sch["pct_frl"].to_numpy() / 100
        self.hisp_share = {"CA": 0.75, "TX": 0.65, "FL": 0.45, "NY": 0.45, "IL": 0.45}.get(state, 0.3)
        self.tests = world.tests[world.tests["state"] == state]
        self._build_teachers()
        self.next_sid = 0
        self.students = _Students()
        self.bonus = np.zeros(len(self.teacher_ids), bool)

    # -- teachers ---------------------------------------------------------------------
    def _build_teachers(self) -> None:
        p, rng = self.p, self.rng
        cs = float(p["class_size"])
        self.slot_base = np.full((len(self.sch_elem), 9, 3), -1, np.int64)
        self.slot_n = np.zeros((len(self.sch_elem), 9, 3), np.int64)
        n = 0
        for k in self.in_state:
            grades = range(3, 6) if self.sch_elem[k] else range(6, 9)
            groups = (_ELEM,) if self.sch_elem[k] else (_MATH_T, _READ_T)
            for g in grades:
                for grp in groups:
                    per = 1 if grp == _ELEM else 2
                    m = int(np.ceil(1.6 * self.per_grade[k] / cs / per)) + 1
                    self.slot_base[k, g, grp], self.slot_n[k, g, grp] = n, m
                    n += m
        n_years = len(p["years"])
        tid = np.empty((n, n_years), np.int64)
        tid[:, 0] = np.arange(n)
        nxt = n
        for t in range(1, n_years):
            new = rng.uniform(size=n) < p["teacher_turnover"]
            tid[:, t] = tid[:, t - 1]
            tid[new, t] = nxt + np.arange(int(new.sum()))
            nxt += int(new.sum())
        self.slot_teacher = tid
        # AR(1) effects over the study years, correlated across subjects
        rho, sd, c = p["teacher_ar"], p["sd_teacher"], p["teacher_subject_corr"]
        chol = np.array([[1.0, 0.0], [c, np.sqrt(1 - c**2)]])
        eff = np.empty((nxt, n_years, 2))
        eff[:, 0] = sd * rng.standard_normal((nxt, 2)) @ chol.T
        for t in range(1, n_years):
            innov = sd * rng.standard_normal((nxt, 2)) @ chol.T
            eff[:, t] = rho * eff[:, t - 1] + np.sqrt(1 - rho**2) * innov
        self.teacher_eff = eff
        self.teacher_ids = np.array([f"T{self.fips:02d}{i:07d}" for i in range(nxt)], dtype=object)

    # -- students ---------------------------------------------------------------------
    def _new_students(self, school: np.ndarray, grade: np.ndarray, year: int) -> _Students:
        p, rng, w = self.p, self.rng, self.w
        n = len(school)
        s = _Students()
        s.sid = self.next_sid + np.arange(n)
        self.next_sid += n
        s.school, s.grade = school, grade
        d = self.sch_district[school]
        minority = rng.uniform(size=n) < self.pct_minority[d]
        hisp = rng.uniform(size=n) < self.hisp_share
        other = rng.choice([2, 3, 4], size=n, p=[0.8, 0.12, 0.08])
        s.race = np.where(minority, np.where(hisp, 1, 0), other)
        s.frl = rng.uniform(size=n) < self.pct_frl_school[school]
        boost = np.where(np.isin(s.race, [1, 3]), 2.2, 0.4)
        s.lep = rng.uniform(size=n) < np.clip(self.pct_lep[d] * boost, 0, 0.9)
        s.swd = rng.uniform(size=n) < 0.12
        s.female = rng.uniform(size=n) < 0.49
        s.cohort = year - (grade - 3)
        theta = np.empty((n, 2))
        rc = p["student_subject_corr"]
        z = rng.standard_normal((n, 2))
        z[:, 1] = rc * z[:, 0] + np.sqrt(1 - rc**2) * z[:, 1]
        base = w.state_status[self.state] + w.district_status[d] + w.school_status[school]
        for j, subj in enumerate(scales.SUBJECTS):
            mu = np.array([scales.grade_means(subj)[g] for g in range(2, 9)])
            sd = np.array([scales.ref_sd(g, subj, w.growth_var) for g in range(2, 9)])
            prev = grade - 1
            shift = (DEMO_SHIFT["frl"][j] * s.frl + DEMO_SHIFT["lep"][j] * s.lep
                     + DEMO_SHIFT["swd"][j] * s.swd + DEMO_SHIFT["female"][j] * s.female
                     + np.array([DEMO_SHIFT[r][j] for r in RACES])[s.race])  # fmt: skip
            usd = np.sqrt(np.maximum(sd[prev - 2] ** 2 - 150.0, 0.5 * sd[prev - 2] ** 2))
            theta[:, j] = mu[prev - 2] + base + shift + usd * z[:, j]
        s.theta = theta
        return s

    def _entrants(self, year: int, first: bool) -> _Students:
        rng, p = self.rng, self.p
        schools, grades, sizes = [], [], []
        for k in self.in_state:
            for g in (range(3, 6) if self.sch_elem[k] else range(6, 9)):
                rate = 1.0 if (first or g == 3) else p["entry_rate"]
                schools.append(k)
                grades.append(g)
                sizes.append(rate * self.per_grade[k])
        counts = rng.poisson(np.array(sizes))
        school = np.repeat(np.array(schools, np.int64), counts)
        grade = np.repeat(np.array(grades, np.int64), counts)
        return self._new_students(school, grade, year)

    def _other_in_block(self, k: np.ndarray) -> np.ndarray:
        """A random other school of the same district and level (itself when there is none)."""
        start, length = self.blk_start[k], self.blk_len[k]
        u = self.rng.uniform(size=len(k))
        shift = 1 + np.floor(u * np.maximum(length - 1, 1)).astype(np.int64)
        other = start + (k - start + shift) % np.maximum(length, 1)
        return np.where(length > 1, other, k)

    def _advance(self, year: int) -> None:
        p, rng, st = self.p, self.rng, self.students
        st.grade = st.grade + 1
        st.keep((st.grade <= 8) & (rng.uniform(size=len(st)) >= p["exit_rate"]))
        to_mid = st.grade == 6
        if to_mid.any():
            d = self.sch_district[st.school[to_mid]]
            pos = st.school[to_mid] - self.blk_start[st.school[to_mid]]
            ms = np.array([self.mid_start[x][0] for x in d])
            mn = np.array([self.mid_start[x][1] for x in d])
            st.school[to_mid] = ms + pos % mn
        move = rng.uniform(size=len(st)) < p["move_within"]
        st.school[move] = self._other_in_block(st.school[move])
        between = rng.uniform(size=len(st)) < p["move_between"]
        for elem in (True, False):
            sel = np.flatnonzero(between & (self.sch_elem[st.school] == elem))
            pool = self.in_state[self.sch_elem[self.in_state] == elem]
            if len(sel) == 0 or len(pool) < 2:
                continue
            wts = self.per_grade[pool] / self.per_grade[pool].sum()
            dest = rng.choice(pool, size=len(sel), p=wts)
            same = self.sch_district[dest] == self.sch_district[st.school[sel]]
            st.school[sel] = np.where(same, st.school[sel], dest)
        st.extend(self._entrants(year, first=False))

    # -- classes ----------------------------------------------------------------------
    def _sections(self, school: np.ndarray, grade: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Balanced random sections within school x grade: (section, number of sections)."""
        n = len(school)
        key = school * 9 + grade
        order = np.lexsort((self.rng.uniform(size=n), key))
        ks = key[order]
        first = np.r_[True, ks[1:] != ks[:-1]]
        grp = np.cumsum(first) - 1
        starts = np.flatnonzero(first)
        sizes = np.diff(np.r_[starts, n])
        rank = np.arange(n) - starts[grp]
        n_sec = np.maximum(1, np.round(sizes / self.p["class_size"])).astype(np.int64)
        sec = np.empty(n, np.int64)
        nsec = np.empty(n, np.int64)
        sec[order] = rank * n_sec[grp] // sizes[grp]
        nsec[order] = n_sec[grp]
        return sec, nsec

    def _teacher(self, school: np.ndarray, grade: np.ndarray, group: np.ndarray,
                 section: np.ndarray, t: int) -> np.ndarray:  # fmt: skip
        per = np.where(group == _ELEM, 1, 2)
        base = self.slot_base[school, grade, group]
        slot = base + (section // per) % self.slot_n[school, grade, group]
        return self.slot_teacher[slot, t]

    # -- one year ---------------------------------------------------------------------
    def year(self, t: int) -> StateYear:
        p, rng, w = self.p, self.rng, self.w
        year = p["years"][t]
        if t == 0:
            self.students = self._entrants(year, first=True)
            new_mask = np.ones(len(self.students), bool)
        else:
            n_before = self.next_sid
            self._advance(year)
            new_mask = self.students.sid >= n_before
        st = self.students
        n = len(st)
        # spring (main) classes; elementary: one class for both subjects
        sec_elem, _ = self._sections(st.school, st.grade)
        sec_m, nsec_m = self._sections(st.school, st.grade)
        sec_r, _ = self._sections(st.school, st.grade)
        elem = self.sch_elem[st.school]
        # first part of the year elsewhere for mid-year movers
        mover = rng.uniform(size=n) < p["midyear_move"]
        first_school = self._other_in_block(st.school[mover])
        alone = first_school == st.school[mover]  # no other school of the level in the district
        for elem_level in (True, False):
            sel = np.flatnonzero(alone & (self.sch_elem[first_school] == elem_level))
            pool = self.in_state[self.sch_elem[self.in_state] == elem_level]
            if len(sel) and len(pool) > 1:
                first_school[sel] = pool[rng.integers(0, len(pool), size=len(sel))]
        keep = first_school != st.school[mover]
        mover[np.flatnonzero(mover)[~keep]] = False
        first_school = first_school[keep]
        d1 = np.round(rng.uniform(0.2, 0.6, size=int(mover.sum())), 2)
        # number of sections in the first school: approximate by its expected size
        n_first = np.maximum(1, np.round(self.per_grade[first_school] / p["class_size"])).astype(np.int64)
        first_sec = np.floor(rng.uniform(size=len(first_school)) * n_first).astype(np.int64)
        # parts: (row in st, school, section, dosage) per subject
        parts = []
        for j in range(2):
            group = np.where(elem, _ELEM, _MATH_T if j == 0 else _READ_T)
            sec = np.where(elem, sec_elem, sec_m if j == 0 else sec_r)
            rows = np.arange(n)
            dos = np.ones(n)
            dos[mover] = 1.0 - d1
            mrows = np.flatnonzero(mover)
            part = {
                "row": np.r_[rows, mrows],
                "school": np.r_[st.school, first_school],
                "section": np.r_[sec, first_sec],
                "group": np.r_[group, group[mrows]],
                "dosage": np.r_[dos, d1],
                "subject": j,
            }
            part["grade"] = st.grade[part["row"]]
            part["teacher"] = self._teacher(part["school"], part["grade"], part["group"], part["section"], t)
            parts.append(part)
        del nsec_m
        # randomized teacher bonus in one district, in the second study year
        experiment = pd.DataFrame()
        exp_year = p["years"][1] if len(p["years"]) > 1 else p["years"][0]
        if year == exp_year and self.exp_district >= 0 and w.districts.loc[self.exp_district, "state"] == self.state:
            tch = np.unique(np.concatenate([pt["teacher"][self.sch_district[pt["school"]] == self.exp_district]
                                            for pt in parts]))  # fmt: skip
            arm = np.zeros(len(tch), bool)
            arm[rng.permutation(len(tch))[: len(tch) // 2]] = True
            self.bonus[tch[arm]] = True
            experiment = pd.DataFrame({
                "unit_type": "teacher", "unit_id": self.teacher_ids[tch], "program": "teacher_bonus",
                "design": "randomized", "first_treated_year": np.where(arm, year, -1),
                "arm": np.where(arm, "treatment", "control")})  # fmt: skip
        # growth
        eff_rows = []
        for j, subj in enumerate(scales.SUBJECTS):
            pt = parts[j]
            k, tch, dos = pt["school"], pt["teacher"], pt["dosage"]
            d = self.sch_district[k]
            tau = self.teacher_eff[tch, t, j]
            bonus = p["bonus_effect"] * self.bonus[tch]
            eta = w.school_effect[k, j]
            s4p = p["p4p_effect"] * ((w.school_p4p_year[k] > 0) & (year >= w.school_p4p_year[k]))
            delta = w.district_effect[d, j]
            prac = p["practice_effect"] * w.practice_index[d, t]
            p4p = p["p4p_effect"] * ((w.p4p_year[d] > 0) & (year >= w.p4p_year[d]))
            contrib = np.bincount(pt["row"], weights=dos * (tau + bonus + eta + s4p + delta + prac + p4p), minlength=n)
            mu = scales.grade_means(subj)
            mu_g = np.array([mu[g] for g in range(2, 9)])
            prev_dev = st.theta[:, j] - mu_g[st.grade - 3]
            st.theta[:, j] = (mu_g[st.grade - 2] + p["persistence"] * prev_dev + contrib
                              + p["sd_student"] * rng.standard_normal(n))  # fmt: skip
            eff_rows.append(self._effects(pt, year, subj, tau, bonus, eta, s4p, delta, prac, p4p))
        return self._outputs(t, year, parts, new_mask, experiment, pd.concat(eff_rows, ignore_index=True))

    def _effects(self, pt: dict, year: int, subj: str, tau: np.ndarray, bonus: np.ndarray, eta: np.ndarray,
                 s4p: np.ndarray, delta: np.ndarray, prac: np.ndarray, p4p: np.ndarray) -> pd.DataFrame:
        """Truth rows: each unit's base, practice and program contributions to growth."""
        d = self.sch_district[pt["school"]]
        zero = np.zeros(len(tau))
        frames = []
        for level, ids, names, base, practice, program in (
            ("teacher", pt["teacher"], self.teacher_ids, tau, zero, bonus),
            ("school", pt["school"], self.school_ids, eta, zero, s4p),
            ("district", d, self.district_ids, delta, prac, p4p),
        ):
            eff = base + practice + program
            u, first, count = np.unique(ids, return_index=True, return_counts=True)
            frames.append(pd.DataFrame({
                "level": level, "unit_id": names[u], "year": year, "subject": subj,
                "effect": eff[first], "base": base[first], "practice": practice[first],
                "program": program[first], "n_students": count, "state": self.state}))  # fmt: skip
        return pd.concat(frames, ignore_index=True)

    def _outputs(self, t: int, year: int, parts: list[dict], new_mask: np.ndarray,
                 experiment: pd.DataFrame, effects: pd.DataFrame) -> StateYear:
        p, rng, st = self.p, self.rng, self.students
        n = len(st)
        sid_str = np.array([f"S{self.fips:02d}{i:08d}" for i in st.sid], dtype=object)
        new = np.flatnonzero(new_mask)
        students = pd.DataFrame({
            "student_id": sid_str[new], "state": self.state, "female": st.female[new],
            "race_ethnicity": np.array(RACES, dtype=object)[st.race[new]], "frl": st.frl[new],
            "lep": st.lep[new], "swd": st.swd[new], "cohort": st.cohort[new]})  # fmt: skip
        enr = []
        for j, subj in enumerate(scales.SUBJECTS):
            pt = parts[j]
            tid = self.teacher_ids[pt["teacher"]]
            cls = pd.Series(tid).str.cat([pd.Series(np.full(len(tid), f"-{year}-")),
                                          pd.Series(pt["section"] + 1).astype(str).str.zfill(2)])  # fmt: skip
            enr.append(pd.DataFrame({
                "student_id": sid_str[pt["row"]], "year": year, "grade": pt["grade"], "subject": subj,
                "school_id": self.school_ids[pt["school"]],
                "district_id": self.district_ids[self.sch_district[pt["school"]]],
                "teacher_id": tid, "class_id": cls.to_numpy(dtype=object), "dosage": pt["dosage"]}))  # fmt: skip
        enrollments = pd.concat(enr, ignore_index=True)
        # observed scores
        tests = self.tests[self.tests["year"] == year].set_index(["grade", "subject"])
        score_frames, ach_frames, tested_frames = [], [], []
        for j, subj in enumerate(scales.SUBJECTS):
            tp = tests.xs(subj, level="subject").reindex(range(9))
            g = st.grade
            col = {c: tp[c].to_numpy()[g] for c in ("ref_mean", "ref_sd", "scale_location", "scale_spread",
                                                     "nonlinearity", "reliability", "scale_min", "scale_max")}
            cuts = np.column_stack([tp[f"cut_{k}"].to_numpy()[g] for k in range(1, 6)])
            theta = st.theta[:, j]
            se0 = col["ref_sd"] * np.sqrt((1 - col["reliability"]) / col["reliability"])
            c = p["csem_curvature"]

            def sig(x: np.ndarray, se0: np.ndarray = se0, col: dict = col, c: float = c) -> np.ndarray:
                z = (x - col["ref_mean"]) / col["ref_sd"]
                return se0 * np.sqrt((1 + c * z**2) / (1 + c))

            obs = theta + sig(theta) * rng.standard_normal(n)
            args = (col["ref_mean"], col["ref_sd"])
            x = scales.to_state(obs, *args, col["scale_location"], col["scale_spread"], col["nonlinearity"])
            x = np.clip(np.round(x), col["scale_min"], col["scale_max"])
            csem = scales.state_slope(obs, *args, col["scale_spread"], col["nonlinearity"]) * sig(obs)
            csem = np.maximum(np.round(csem, 1), 0.1)
            level = 1 + (x[:, None] >= cuts).sum(axis=1)  # NaN cuts compare False
            present = rng.uniform(size=n) >= p["absent_rate"]
            school = st.school
            score_frames.append(pd.DataFrame({
                "student_id": sid_str[present], "state": self.state, "year": year,
                "grade": g[present], "subject": subj, "scale_score": x[present], "csem": csem[present]}))  # fmt: skip
            ach_frames.append(pd.DataFrame({
                "student_id": sid_str, "year": year, "grade": g, "subject": subj,
                "school_id": self.school_ids[school], "theta": theta, "tested": present}))  # fmt: skip
            tested_frames.append(pd.DataFrame({
                "school": school, "district": self.sch_district[school], "grade": g, "subject": j,
                "theta": theta, "score": x, "level": level, "present": present,
                "frl": st.frl, "lep": st.lep, "female": st.female, "swd": st.swd, "race": st.race}))  # fmt: skip
        return StateYear(self.state, year, students, enrollments, pd.concat(score_frames, ignore_index=True),
                         pd.concat(ach_frames, ignore_index=True), pd.concat(tested_frames, ignore_index=True),
                         effects, experiment)  # fmt: skip


def simulate_state(world: World, p: dict, state: str, rng: np.random.Generator,
                   experiment_district: int = -1) -> Iterator[StateYear]:
    """Yield one :class:`StateYear` per study year for ``state``.

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.simulate.params import resolve_params
    >>> from pdstats.simulate.world import build_world
    >>> from pdstats.simulate.achievement import simulate_state
    >>> p = resolve_params("small", 1, 2, (2005, 2006), {"n_comparison": 0})
    >>> w = build_world(np.random.default_rng(0), p)
    >>> chunks = list(simulate_state(w, p, "CA", np.random.default_rng(1)))
    >>> [c.year for c in chunks], sorted(chunks[0].scores["subject"].unique())
    ([2005, 2006], ['math', 'reading'])
    """
    eng = _StateEngine(world, p, state, rng, experiment_district)
    for t in range(len(p["years"])):
        yield eng.year(t)
