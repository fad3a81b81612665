"""Build src/pdstats/practices/data/year1_facts.csv from a hand-made list of facts.

Developer script (not part of the package): each fact carries a short text snippet that is
looked up in the source report to record the line it comes from.  Run from the repo root:
    python src/pdstats/practices/data/make_year1_facts.py /path/to/000_f54e78d5faae9d7f.txt
"""

import csv
import sys
from pathlib import Path

SRC = Path(sys.argv[1])
LINES = SRC.read_text().splitlines()
OUT = Path("src/pdstats/practices/data/year1_facts.csv")

# (figure, section, measure, category, value, denominator, unit, agg, code, snippet, note)
F = []


def f(figure, section, measure, category, value, snippet, code="", agg="districts",
      denominator=28, unit="districts", note="", lower="", upper="", start=0):
    F.append(dict(figure=figure, section=section, measure=measure, category=category,
                  value=value, lower=lower, upper=upper, denominator=denominator, unit=unit,
                  agg=agg, code=code, snippet=snippet, note=note, start=start))


# ---- Chapter 1 / foreword: study design -------------------------------------------------
T1 = "Text 1"
f(T1, "1 Methodology", "districts contacted", "all", 35, "contacted a total of 35 district", agg="none", denominator="", note="not reconstructed: the 7 declining districts are not in the data")
f(T1, "1 Methodology", "districts declining", "all", 7, "seven districts declined", agg="none", denominator=35, note="not reconstructed")
f(T1, "1 Methodology", "districts participating", "all", 28, "final 28 districts", agg="n_districts", denominator=35)
f(T1, "1 Methodology", "pilot-test districts", "all", 3, "tested in three districts", agg="none", denominator="", note="not reconstructed")
f(T1, "1 Methodology", "interviews", "all", 112, "conducted 112 interviews", agg="n_interviews", denominator="", unit="interviews")
f(T1, "1 Methodology", "interviews per district", "all", 4, "Four senior-level cabinet", agg="interviews_per_district", denominator="", unit="interviews")
f(T1, "1 Methodology", "non-district entities", "CMO or EMO", 2, "Two of the participating entities", code="org_type", agg="org_type")
f(T1, "1 Methodology", "demographics source", "NCES 2002-2003", 25, "Database for 25 districts", code="nces", agg="demo_source")
f(T1, "1 Methodology", "demographics source", "district records 2002-2003", 3, "remaining three systems", code="district_records", agg="demo_source")
f(T1, "1 Methodology", "interview length (minutes)", "minimum", 45, "45 to 90 minutes", agg="none", denominator="", unit="minutes", note="not reconstructed")
f(T1, "1 Methodology", "interview length (minutes)", "maximum", 90, "45 to 90 minutes", agg="none", denominator="", unit="minutes", note="not reconstructed")
f(T1, "1 Methodology", "fieldwork duration (months)", "all", 3, "Over the course of three months", agg="none", denominator="", unit="months", note="not reconstructed")
f(T1, "Foreword", "participants thanked", "all", 113, "grateful to the 113 participants", agg="none", denominator="", unit="people", note="the report says 112 interviews elsewhere; 113 may include a pilot or joint interview. Not reconstructed")

# ---- Figure 1.1 ----------------------------------------------------------------------------
bins = {
    "% free & reduced-price lunch": ("pct_frl", ["0-25%", "26-50%", "51-75%", "76%+"], [2, 5, 17, 4], "% Free & Reduced"),
    "% limited English proficiency": ("pct_lep", ["0-10%", "11-20%", "21-30%", "31%+"], [11, 5, 8, 4], "Limited English Proficiency 0-10%"),
    "% minority (African American or Hispanic)": ("pct_minority", ["0-25%", "26-50%", "51-75%", "76%+"], [1, 5, 11, 11], "% Minority"),
    "district size (enrollment)": ("enrollment", ["<25K", "26K-50K", "51K-75K", "76K+"], [2, 5, 8, 13], "District Size"),
}
for measure, (col, cats, vals, snip) in bins.items():
    for c, v in zip(cats, vals, strict=True):
        f("Figure 1.1", "1 Methodology", measure, c, v, snip, code=col, agg="bin", start=820)
    f("Figure 1.1", "1 Methodology", measure, "Total", sum(vals), snip, code=col, agg="bin", start=820)

# ---- Chapter 2 (overall findings) ---------------------------------------------------------
f("Text 2", "2 Overall Findings", "professional development shared by district and sites", "about one-third", "", "About one-third of the districts shared", agg="none", note="approximate; section 3.5 gives the count (8 districts, line 2536), which is reconstructed there")

# ---- Section 3.1 ---------------------------------------------------------------------------
S31 = "3.1 Goals and Governance"
f("Text 3.1", S31, "school board", "elected", 24, "Most of the school districts (24)", code="board:elected")
f("Text 3.1", S31, "school board", "appointed", 4, "four\ndistricts reported having appointed", code="board:appointed")
f("Text 3.1", S31, "school board", "appointed by mayor", 2, "two of which had been appointed by", code="board:mayor_appointed")
f("Text 3.1", S31, "school board", "mayor-appointed, positive relationship", 2, "in the two cases of mayoral", code="board:mayor_appointed&board_relationship:positive", denominator=2)
f("Figure 3.1.1", S31, "board relationship", "positive", 15, "half of the districts (15) spoke favorably", code="board_relationship:positive", note="2 districts with inconclusive data are not shown (figure note)")
f("Figure 3.1.1", S31, "board relationship", "neutral", 5, "quarter of the districts (5) cited neutral", code="board_relationship:neutral")
f("Figure 3.1.1", S31, "board relationship", "problematic", 6, "same number (6) described", code="board_relationship:problematic")
f("Figure 3.1.1", S31, "board goal-setting activity", "reviewed goals", 5, "the districts (5) reported that their school board had reviewed", code="board_goals:review")
f("Figure 3.1.1", S31, "board goal-setting activity", "monitored progress", 5, "an equal number (5) said that the board had", code="board_goals:monitor")
f("Figure 3.1.1", S31, "board goal-setting activity", "monitored progress, positive relationship", 4, "districts whose boards had been involved in monitoring", code="board_goals:monitor&board_relationship:positive", denominator=5)
f("Text 3.1", S31, "districts with clear goals", "all", 28, "The adoption of clear and well-articulated goals was reported by all", code="goals:clear_goals")
goals = [("Student Achievement", 21, "student_achievement"), ("Literacy Initiatives", 17, "literacy"),
         ("Math Initiatives", 15, "math"), ("Increase Parent and Community Involvement and Support", 11, "parent_community"),
         ("Improve Teacher Recruitment and Retention", 9, "teacher_recruitment"), ("Focus on Minority Groups", 9, "minority_groups"),
         ("No Child Left Behind", 8, "nclb"), ("Improve Business Practices", 7, "business_practices")]
for label, v, code in goals:
    f("Table 3.1.2", S31, "most commonly stated goals", label, v, label + " " + str(v), code="goal:" + code, start=1296)
f("Text 3.1", S31, "goal-setting input", "parents/community in site-level plans", 4, "site-level plans", code="goal_setting:parents_site_plans")
f("Text 3.1", S31, "goal-setting input", "parents/community in district-level goals", 3, "setting district-level goals (3)", code="goal_setting:parents_district_goals")
f("Text 3.1", S31, "goal-setting input", "community forums", 5, "some districts (5) held", code="goal_setting:community_forums")
f("Text 3.1", S31, "goal communication", "principals primary liaison", 9, "In one-third of the districts (9), principals", code="goal_setting:principal_liaison")
f("Text 3.1", S31, "goal communication", "scorecards", 6, "Slightly less than a quarter of the districts (6) reported that they used scorecards", code="goal_setting:scorecards")

# ---- Section 3.2 ---------------------------------------------------------------------------
S32 = "3.2 Matching Goals to Resources"
f("Text 3.2", S32, "finance", "substantial budgetary challenges", 18, "(18) described substantial budgetary", code="finance:budget_challenges")
f("Text 3.2", S32, "finance", "bargaining rules limit flexibility", 12, "Just under half of the districts (12) described", code="finance:bargaining_limits")
f("Text 3.2", S32, "finance", "gradual transition of budgets to sites", 3, "A few districts (3) discussed a gradual", code="finance:gradual_site_budget")
f("Text 3.2", S32, "finance", "regular cost-effectiveness review", 12, "Fewer than half of the districts (12) had processes", code="finance:cost_effectiveness_review")
f("Text 3.2", S32, "finance", "share of budget turned over to schools in one district", 80, "nearly 80 percent of their budgets", agg="none", denominator="", unit="percent", note="single-district example (over five years); not reconstructed")
f("Text 3.2", S32, "human resources", "alternative certification programs", 4, "four districts reported that", code="hr:alternative_certification")
f("Text 3.2", S32, "human resources", "drop in uncertified emergency-credential teachers in one district", 70, "saw a 70 percent drop", agg="none", denominator="", unit="percent", note="single-district example; not reconstructed")
f("Text 3.2", S32, "human resources", "recruitment strategies", 9, "only one-third of the districts", code="hr:recruitment_strategy")
f("Text 3.2", S32, "human resources", "teacher-turnover goal of one district", "", "turnover to less than 10 percent", agg="none", denominator="", unit="percent", upper=10, note="single-district goal ('less than 10 percent'); not reconstructed")
f("Text 3.2", S32, "human resources", "incentives for low-performing schools", 12, "Less than half of the districts (12) had incentives", code="hr:low_performing_incentives")
f("Text 3.2", S32, "human resources", "no collective bargaining in state", 6, "than a quarter of the districts (6) did not have collective", code="hr:no_collective_bargaining")
f("Text 3.2", S32, "human resources", "positive union relationship (of districts with bargaining)", "", "than half of the remaining districts stated", agg="none", denominator=22, upper=10, note="'less than half of the remaining' 22 districts; not reconstructed")
f("Text 3.2", S32, "information systems", "basic information systems", 28, "All of the twenty-eight districts studied had some type of basic", code="is:basic_systems")
f("Text 3.2", S32, "information systems", "at least one antiquated system", 6, "(6) described at least one of their information", code="is:antiquated")
f("Text 3.2", S32, "information systems", "planning new district-wide system", 3, "A few districts (3) reported that they were planning", code="is:planning_new")
f("Text 3.2", S32, "information systems", "implementing new district-wide system", 6, "slightly less than a quarter (6) were actively", code="is:implementing_new")
f("Text 3.2", S32, "information systems", "basic systems automating some tasks", 5, "Less than one-quarter of the districts (5) reported that they had basic", code="is:basic_automation")
f("Text 3.2", S32, "information systems", "reliable system in one functional area only", 18, "Two-thirds of the districts (18) reported that they had reliable", code="is:reliable_one_area")
f("Text 3.2", S32, "desktop data access", "superintendents", 6, "Slightly less than one-quarter of the districts (6) reported that superintendents", code="is:superintendent_desktop")
f("Text 3.2", S32, "desktop data access", "top-level administrators", 9, "third (9) reported that top-level", code="is:admin_desktop")
f("Text 3.2", S32, "desktop data access", "dashboards", 3, "A few districts (3) had developed", code="is:dashboards")
f("Text 3.2", S32, "desktop data access", "dashboards for principals", 1, "and in one case for principals", code="is:dashboards_principals", denominator=3)

# ---- Section 3.3 ---------------------------------------------------------------------------
S33 = "3.3 Instructional Leadership"
f("Text 3.3", S33, "principal development", "leadership academies", 4, "four districts provided", code="leadership:principal_academies")
f("Text 3.3", S33, "removing under-performing principals", "procedures established or being adopted", 11, "11 districts described procedures", code="leadership:principal_removal")
f("Text 3.3", S33, "removing under-performing principals", "formal accountability plans", 4, "Four of these", code="leadership:removal_formal_plan", denominator=11)
f("Text 3.3", S33, "removing under-performing principals", "informal processes", 7, "seven districts, by contrast", code="leadership:removal_informal", denominator=11)
f("Text 3.3", S33, "removing under-performing principals", "typical duration of formal process (years)", "", "from one to three years", agg="none", denominator="", unit="years", lower=1, upper=3, note="not reconstructed")
f("Text 3.3", S33, "principal turnover", "one district, last six years", 90, "turnover rate of 90 percent", agg="none", denominator="", unit="percent", note="single-district example; not reconstructed")
f("Text 3.3", S33, "removing under-performing principals", "procedures already in place", 10, "Of the ten districts that said they already", code="leadership:removal_in_place", denominator=11)
f("Text 3.3", S33, "outcome of removal procedures", "dismissed principals", 6, "performance, six indicated", code="leadership:dismissed", denominator=10)
f("Text 3.3", S33, "outcome of removal procedures", "principals resigned", 2, "performance, six indicated", code="leadership:resigned", denominator=10)
f("Text 3.3", S33, "outcome of removal procedures", "none removed so far", 1, "One district indicated that they had not removed", code="leadership:none_removed", denominator=10)
f("Text 3.3", S33, "outcome of removal procedures", "not specific", 1, "district was not specific", code="leadership:removal_unspecified", denominator=10)

# ---- Section 3.4 ---------------------------------------------------------------------------
S34 = "3.4 Assessments"
f("Text 3.4", S34, "state assessments", "results not timely enough to use", 7, "One-quarter of the districts (7) reported that a lack", code="assess:state_timeliness")
f("Figure 3.4.1", S34, "use of state-mandated assessments", "mainly compliance, results not used", 19, "Over two-thirds of the districts (19)", code="assess:state_compliance_only", note="2 districts fall in neither group")
f("Figure 3.4.1", S34, "use of state-mandated assessments", "results used to analyze performance", 7, "Just one-quarter of the", code="assess:state_results_used")
f("Figure 3.4.2", S34, "use of district-wide assessments", "implemented or developing", 21, "Three-quarters of the districts (21)", code="assess:district_wide")
f("Figure 3.4.2", S34, "use of district-wide assessments", "used or planned to use results", 14, "Of these 21 districts, 14", code="assess:district_wide_used", denominator=21)
f("Text 3.4", S34, "district-wide assessments", "implemented", 17, "(17) that had implemented district-wide", code="assess:district_wide_implemented", note="the other 4 of the 21 were developing them (inferred)")
f("Text 3.4", S34, "district-wide assessments", "implemented, results not used", 6, "only about one-third (6) did not", code="assess:district_wide_implemented&!assess:district_wide_used", denominator=17)
f("Text 3.4", S34, "district-wide assessments", "used to evaluate achievement and improve curriculum", 11, "Eleven districts reported using district-wide", code="assess:district_wide_implemented&assess:district_wide_used", note="taken to be the 17 - 6 = 11 implementing districts that use results")
f("Figure 3.4.3", S34, "diagnostic benchmarking (at least quarterly)", "examples provided", 18, "Two-thirds of the districts (18) provided examples of diagnostic", code="assess:benchmarking")
f("Figure 3.4.3", S34, "diagnostic benchmarking (at least quarterly)", "in place", 14, "Three-quarters of them (14 of", code="assess:benchmarking_in_place", denominator=18)
f("Figure 3.4.3", S34, "diagnostic benchmarking (at least quarterly)", "planning or beginning", 4, "another 4 districts reported", code="assess:benchmarking_planned", denominator=18)
f("Text 3.4", S34, "short-cycle assessments", "more frequent than quarterly", 8, "Less than a third of districts (8) offered", code="assess:short_cycle")
f("Text 3.4", S34, "short-cycle assessments", "developing", 3, "Another three districts", code="assess:short_cycle_developing")

# ---- Section 3.5 ---------------------------------------------------------------------------
S35 = "3.5 Professional Development"
f("Text 3.5", S35, "home of professional development", "curriculum and instruction", 12, "Nearly half of the districts (12) typically delegated", code="pd:in_curriculum")
f("Text 3.5", S35, "home of professional development", "human resources", 4, "several others (4) reported", code="pd:in_hr")
f("Text 3.5", S35, "home of professional development", "shared district and sites", 8, "of the districts (8) shared", code="pd:shared", note="the text calls 8 of 28 'one-third'")
f("Text 3.5", S35, "embedded professional development", "coaches, mentors, specialists", 18, "thirds (18) reported this type", code="pd:embedded_coaching")
f("Text 3.5", S35, "embedded professional development", "coaches monitor teacher effectiveness (literacy, math)", 2, "two districts described innovative efforts", code="pd:coaches_monitor_teachers", note="a subset of the 18 districts with embedded coaching")
f("Text 3.5", S35, "embedded professional development", "teacher-leaders in one district", 360, "30 schools or 360 total", agg="none", denominator="", unit="teacher-leaders", note="single-district quote (3 per school x 4 subjects x 30 schools); not reconstructed")
f("Figure 3.5.1", S35, "data-use training", "for principals", 24, "most districts (24) reported that they provided training", code="pd:data_training_principals")
f("Figure 3.5.1", S35, "data-use training", "for teachers", 18, "while two-thirds (18) reported that they provided this kind", code="pd:data_training_teachers")
f("Figure 3.5.1", S35, "data-use training", "basic technology training", 9, "about one-third (9) described basic", code="pd:data_training_basic", denominator=24)
f("Figure 3.5.1", S35, "data-use training", "training in using data to change practice", 11, "less than half of the districts (11) reported", code="pd:data_training_practice", denominator=24)
f("Figure 3.5.1", S35, "data-use training", "no evidence of data-use training", 4, "four districts there was no evidence", code="!pd:data_training_principals&!pd:data_training_teachers")

# ---- Chapter 4 -----------------------------------------------------------------------------
S4a = "4 Gathering Data and Assessing Outcomes"
f("Text 4", "4 Becoming a Performance-Driven Organization", "initial progress", "all districts", 28, "all of the districts interviewed reported that they have made", code="org:progress")
f("Text 4", S4a, "gathering and analyzing data", "examples provided", 28, "all of the districts provided examples of gathering", code="data:gathering")
f("Text 4", S4a, "reasons for gathering data", "curriculum decisions / guide instruction", 18, "Two-thirds of the districts (18) provided evidence of gathering", code="data:curriculum")
f("Text 4", S4a, "reasons for gathering data", "track progress of student groups", 15, "Over half of the districts (15)", code="data:track_groups")
f("Text 4", S4a, "reasons for gathering data", "professional development needs", 14, "Half of the districts (14)", code="data:pd_needs")
f("Text 4", S4a, "reasons for gathering data", "program evaluations", 12, "Slightly less than half (12)", code="data:program_evaluation")
f("Text 4", S4a, "reasons for gathering data", "on-site reviews (walk-throughs)", 9, "In addition, one-third (9)", code="data:site_reviews")
f("Text 4", S4a, "principals without regular access to achievement data", "about half", 14, "In about half of the districts, principals", agg="none", note="approximate ('about half'); not reconstructed")
f("Text 4", S4a, "teachers not given data on their classrooms", "more than half", "", "In more than half of the districts, teachers", agg="none", lower=15, note="'more than half' of 28; not reconstructed")
S4b = "4 Monitoring and Feedback Loops"
f("Figure 4.2", S4b, "uses of data in practice (instances cited)", "data-based decision-making", 384, "elicited 384 instances", code="data_use:decision_making", agg="instances", denominator="", unit="instances")
f("Figure 4.2", S4b, "uses of data in practice (instances cited)", "monitoring / feedback loops", 161, "many examples (161)", code="data_use:monitoring", agg="instances", denominator="", unit="instances")
f("Figure 4.2", S4b, "uses of data in practice (instances cited)", "action taken on new information", 41, "instances (41) of action", code="data_use:action", agg="instances", denominator="", unit="instances")
f("Text 4", S4b, "examples per district (typical)", "data-based decision-making", "", "offered 10 or more examples", agg="none", denominator="", unit="examples", lower=10, note="'many districts'; not reconstructed")
f("Text 4", S4b, "examples per district (typical)", "monitoring / feedback loops", "", "only 2 to\n5 examples of monitoring", agg="none", denominator="", unit="examples", lower=2, upper=5, note="'typically'; not reconstructed")
f("Text 4", S4b, "examples per district (typical)", "action taken on new information", "", "and 0 to 2 examples of taking action", agg="none", denominator="", unit="examples", lower=0, upper=2, note="'typically'; not reconstructed")
f("Text 4", S4b, "monitoring and feedback", "district interventions for weak sites", 20, "Three-quarters of the districts (20)", code="monitor:district_interventions")
f("Text 4", S4b, "monitoring and feedback", "data for human-resources decisions", 15, "Slightly more than half (15)", code="monitor:hr_data")
f("Text 4", S4b, "monitoring and feedback", "site process to monitor individual students", 10, "One-third (10) provided evidence", code="monitor:site_process")
f("Text 4", S4b, "monitoring and feedback", "cost-benefit studies of programs", 10, "One-third (10) described regular", code="monitor:cost_benefit")
f("Text 4", S4b, "monitoring and feedback", "principals and teachers analyze and revise", 8, "Just over one-quarter (8)", code="monitor:teacher_analysis")
f("Text 4", S4b, "monitoring and feedback", "rapid response to weaknesses", 5, "Less than a quarter (5) provided", code="monitor:rapid_response")
f("Text 4", S4b, "monitoring and feedback", "compare with similar districts", 2, "Two districts provided evidence", code="monitor:compare_districts")
S4c = "4 Ownership of Outcomes"
f("Text 4", S4c, "performance pay", "school bonuses", 4, "Several districts (4) reported", code="incentive:school_bonus")
f("Text 4", S4c, "performance pay", "teacher bonuses", 8, "Eight districts said", code="incentive:teacher_bonus")
f("Text 4", S4c, "performance pay", "principal bonuses", 4, "Four districts said that they provided", code="incentive:principal_bonus")
f("Text 4", S4c, "performance pay", "district administrator bonuses", 2, "Two districts\nsaid", code="incentive:admin_bonus")
f("Text 4", S4c, "performance pay", "would adopt or expand", 7, "Seven districts stated", code="incentive:want_p4p")
f("Text 4", S4c, "performance pay", "negotiating with unions", 2, "Two of these districts are negotiating", code="incentive:p4p_negotiating", denominator=7)
f("Text 4", S4c, "performance pay", "evaluated effectiveness", 0, "none of the districts provided evidence that they had", code="incentive:p4p_evaluated")
f("Text 4", S4c, "performance pay", "maximum teacher bonus", "", "as high\nas $3,000", agg="none", denominator="", unit="dollars", upper=3000, note="single-district example, not reconstructed")
f("Text 4", S4c, "performance pay", "typical teacher bonus", 1000, "closer to $1,000", agg="none", denominator="", unit="dollars", note="approximate, not reconstructed")
f("Text 4", S4c, "performance pay", "maximum principal bonus", "", "as high as $15,000", agg="none", denominator="", unit="dollars", upper=15000, note="not reconstructed")
f("Text 4", S4c, "performance pay", "teachers qualifying for bonus in one district", 90, "In one district, 90", agg="none", denominator="", unit="percent", note="single-district example, not reconstructed")
f("Text 4", S4c, "evaluations use achievement", "teachers", 3, "Only three districts reported", code="eval:teachers_achievement")
f("Text 4", S4c, "evaluations use achievement", "principals", 7, "One-quarter of the districts (7) said that they were evaluating", code="eval:principals_achievement")
f("Text 4", S4c, "evaluations use achievement", "share of principal evaluation in one district", 60, "In this case, 60 percent", agg="none", denominator="", unit="percent", note="single-district example (achievement and attendance); District 1 reports the same share (line 3322). Not reconstructed")

# ---- Chapter 5 case-study tables -----------------------------------------------------------
cases = {
    "Table 5.1": (3226, [("Student Enrollment", "75,000 +", 75000, ""), ("Number of Schools", "75 +", 75, ""),
                         ("District Budget", "$700 million +", 700, ""), ("Locale", "Large Central City, Eastern US", "", ""),
                         ("Free/Reduced Lunch", "50% to 75%", 50, 75), ("Limited English Proficiency", "0% to 10%", 0, 10),
                         ("Minority (African-American or Hispanic)", "75% +", 75, "")]),
    "Table 5.2": (3361, [("Student Enrollment", "75,000 +", 75000, ""), ("Number of Schools", "75 +", 75, ""),
                         ("District Budget", "$700 million +", 700, ""), ("Locale", "Large Central City,Western US", "", ""),
                         ("Free/Reduced Lunch", "50% to 75%", 50, 75), ("Limited English Proficiency", "20% to 30%", 20, 30),
                         ("Minority (African-American or Hispanic)", "50% to 75%", 50, 75)]),
    "Table 5.3": (3482, [("Student Enrollment", "50,000 to 75,000", 50000, 75000), ("Number of Schools", "25 to 75 schools", 25, 75),
                         ("District Budget", "$400 million +", 400, ""), ("Locale", "Urban Fringe of Large City, Central US", "", ""),
                         ("Free/Reduced Lunch", "50% to 75%", 50, 75), ("Limited English Proficiency", "20% to 30%", 20, 30),
                         ("Minority (African-American or Hispanic)", "75% +", 75, "")]),
}
for tab, (start, rows) in cases.items():
    case = "District " + tab[-1]
    for measure, text, lo, hi in rows:
        snip = (measure + " " + text) if measure != "Locale" else "Locale "
        f(tab, "5 Case Studies", measure, case, "", snip, code=text, agg="range" if measure != "Locale" else "text",
          denominator="", unit={"Student Enrollment": "students", "Number of Schools": "schools",
                                "District Budget": "million dollars", "Locale": ""}.get(measure, "percent"),
          lower=lo, upper=hi, start=start)

# ---- Chapter 5 running text: numbers about the case-study districts (not reconstructed) ------
S5 = "5 Case Studies"
T5 = "Text 5"
for case, measure, value, snip, unit, lo, hi, start in [
    ("District 1", "tenure of the previous superintendent", 3.5, "for only three and a half years", "years", "", "", 3200),
    ("District 1", "share of general fund tied up in payroll", 90, "nearly 90 percent of the district", "percent", "", "", 3200),
    ("District 1", "share of principal-evaluation criteria tied to achievement and attendance", 60, "Currently, 60 percent", "percent", "", "", 3200),
    ("District 1", "evaluation cycle of tenured teachers", 3, "Tenured teachers are evaluated every three years", "years", "", "", 3200),
    ("District 2", "years since the new superintendent was hired", "", "just over five years ago", "years", 5, "", 3340),
    ("District 2", "years in the district, chiefs of finance and of curriculum", "", "at least 20 years each", "years", 20, "", 3340),
    ("District 2", "minimum daily classroom time of principals", "", "at least\nthree hours per day", "hours", 3, "", 3340),
    ("District 2", "district-wide diagnostic assessments per year", 3, "given three times per year", "assessments", "", "", 3340),
    ("District 3", "years of performance-driven practices", "", "for over a\ndecade", "years", 10, "", 3469),
    ("District 3", "years in the district, four top cabinet members", "", "at least fourteen years", "years", 14, "", 3469),
    ("District 3", "tenure of the superintendent", 3, "has been in place for three years", "years", "", "", 3469),
    ("District 3", "length of curriculum units", 2, "into two-week units", "weeks", "", "", 3469),
    ("District 3", "maximum annual site bonus per teacher", "", "up to a level of $1,100", "dollars", "", 1100, 3469),
    ("District 3", "maximum critical-needs pay", "", "additional annual pay of up to $3,000", "dollars", "", 3000, 3469),
    ("District 3", "share of teachers not receiving the bonus", 10, "about 10 percent of teachers", "percent", "", "", 3469),
]:
    f(T5, S5, measure, case, value, snip, agg="none", denominator="", unit=unit, lower=lo, upper=hi,
      start=start, note="single-district case-study fact; not reconstructed")

# ---- Table 5.4 (qualitative: one text cell per challenge and case-study district) ----------
T54 = {
    "Fiscal Constraints": [
        ("General fund primarily tied up in payroll, limits ability to align resources to goals.", "General fund primarily"),
        ("Facing multi-year deficits and currently has a hiring freeze.", "Facing multi-year deficits"),
        ("Does not face significant financial barriers.", "Does not face significant"),
    ],
    "School Board": [
        ("Had a contentious relationship with previous superintendent, but is now working with new superintendent to review district goals and make changes.", "Had a contentious rela"),
        ("Characterized as dysfunctional and divided on most issues.", "Characterized as dysfunc"),
        ("Well-functioning and has a strong focus on student achievement.", "Well-functioning and has"),
    ],
    "Principals and Teachers": [
        ("Working to change culture of staff to become more performance-driven. Currently, achievement results are not tied to teacher performance.", "Working to change cul"),
        ("Accustomed to working in silos, and reticent to work in a more collaborative fashion. Student achievement results tied to principals' evaluation.", "Accustomed to working"),
        ("Trained to use data and teachers are responsible for outcomes.", "Trained to use data"),
    ],
    "Information Systems": [
        ("Current system is antiquated and district cannot afford new systems.", "Current system is anti"),
        ("New system in place, but not yet fully functional.", "New system in place, but"),
        ("Relatively basic system in place.", "Relatively basic system"),
    ],
    "Superintendent": [
        ("New to the district. District has had three superintendents over five-year period.", "New to the district.\nDistrict"),
        ("New to district, has been in position for five years and does not have a strong mandate by the board.", "New to district, has been"),
        ("In position for three years; previously chief of curriculum and instruction in the district.", "In position for three"),
    ],
    "Other Three Cabinet Members": [
        ("Two have been in district for sixteen years or longer, one for less than six months.", "Two have been in"),
        ("Three have been in the district for a decade or longer.", "district for a decade or\nlonger"),
        ("Three have been in the district for fourteen years or longer.", "district for fourteen years\nor longer"),
    ],
    "Union Relationship": [
        ("Possible state takeover of several schools has brought union to the table to renegotiate teacher issues in those schools.", "Possible state takeover"),
        ("Decision-making is made difficult by a school board that is evenly split between union and business.", "Decision-making is made"),
        ("No collective bargaining unit in the state.", "No collective bargaining\nunit"),
    ],
}
for challenge, cells in T54.items():
    for k, (text, snip) in enumerate(cells, start=1):
        f("Table 5.4", S5, challenge, f"District {k}", "", snip, code=text, agg="text",
          denominator="", unit="", start=3730,
          note="qualitative cell; its numbers (years in post, superintendents) are part of the text")

rows = []
for i, d in enumerate(F, start=1):
    start = d.pop("start")
    snip = d.pop("snippet")
    # find snippet (may span a line break) from `start`
    text = "\n".join(LINES)
    offset = sum(len(x) + 1 for x in LINES[:start])
    pos = text.find(snip, offset)
    if pos < 0:
        pos = text.find(snip)
    if pos < 0:
        raise SystemExit(f"snippet not found: {snip!r}")
    line = text.count("\n", 0, pos) + 1
    rows.append({"fact_id": f"F{i:03d}", **d, "line": line})
# Table 6.1 facts are generated from stage_matrix.csv at run time.
with OUT.open("w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
print(len(rows), "facts written to", OUT)
