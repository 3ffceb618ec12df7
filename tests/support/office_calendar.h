/* office_calendar: the calendar unit tests share — Asia/Ho_Chi_Minh, Monday to Friday,
 * 07:30-11:30 and 13:00-17:00 (8-hour days), with the official 2024 schedule (Tết Giáp Thìn
 * 8-14/2, Hùng Kings 18/4, 29/4-1/5 with the make-up Saturday 4/5, 2-3/9). */
#ifndef DUNGHAN_OFFICE_CALENDAR_H
#define DUNGHAN_OFFICE_CALENDAR_H

#include "calendar.h"

/* A new calendar (caller frees with calendar_free), or NULL with err. */
struct calendar *office_calendar_2024(struct err *err);

#endif
