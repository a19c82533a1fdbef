// @ts-check
/**
 * The JSON the page reads, as JSDoc types: a mirror of smartsofar/payloads.py (the API's OpenAPI document,
 * /api/openapi.json, is the reference). Power in W: grid > 0 import, battery > 0 charge; null = not known now.
 *
 * @typedef {"auto" | "manual" | "standby"} Mode
 *
 * @typedef {object} ModePayload
 * @property {Mode} mode
 * @property {number} manual_power_w
 * @property {number} target_w
 * @property {boolean} allow_charge
 * @property {boolean} allow_discharge
 *
 * @typedef {object} PhasePayload
 * @property {number} power_w
 * @property {number | null} voltage_v
 * @property {number | null} current_a
 * @property {number | null} power_factor
 *
 * @typedef {object} MeterPayload
 * @property {string} model
 * @property {string} state
 * @property {boolean} fresh
 * @property {number | null} age_s
 * @property {string | null} error
 * @property {number} reads
 * @property {number} failures
 * @property {number | null} power_w
 * @property {PhasePayload[]} phases
 *
 * @typedef {object} ReadingPayload
 * @property {string} running_state
 * @property {string} running_state_words
 * @property {string[]} faults
 * @property {string[]} battery_faults
 * @property {string[]} alerts
 * @property {number} battery_w
 * @property {number} battery_v
 * @property {number} battery_a
 * @property {number} soc_pct
 * @property {number} battery_temp_c
 * @property {number} inverter_temp_c
 * @property {number} heatsink_temp_c
 * @property {number} pv_today_wh
 * @property {number} import_today_wh
 * @property {number} export_today_wh
 * @property {number} load_today_wh
 *
 * @typedef {object} StatusPayload
 * @property {string} result
 * @property {string} message
 *
 * @typedef {object} InfoPayload
 * @property {string} serial
 * @property {string} software_version
 * @property {string} hardware_version
 *
 * @typedef {object} ResponsePayload
 * @property {number} dead_time_s
 * @property {number} ramp_w_per_s
 * @property {number} samples
 * @property {boolean} learned
 * @property {boolean} fixed
 *
 * @typedef {object} UnitPayload
 * @property {number} unit_id
 * @property {string} name
 * @property {"unknown" | "ok" | "degraded" | "offline"} link
 * @property {boolean} available
 * @property {string | null} unavailable_reason
 * @property {number | null} setpoint_w
 * @property {ReadingPayload | null} reading
 * @property {StatusPayload | null} status
 * @property {string | null} last_command
 * @property {InfoPayload | null} info
 * @property {ResponsePayload | null} response
 *
 * @typedef {object} SitePayload
 * @property {number} at
 * @property {ModePayload} mode
 * @property {Mode[]} modes
 * @property {string} safety
 * @property {string} message
 * @property {number | null} grid_w
 * @property {number | null} base_w
 * @property {number} setpoint_total_w
 * @property {number | null} battery_w
 * @property {number | null} soc_pct
 * @property {number} manual_min_w
 * @property {number} manual_max_w
 * @property {MeterPayload | null} meter
 * @property {UnitPayload[]} units
 * @property {IntentPayload} battery_mode
 *
 * @typedef {object} IntentPayload
 * @property {"normal" | "hold" | "charge" | "export"} mode
 * @property {number} charge_w
 * @property {number} export_w
 * @property {number | null} until_soc_pct
 * @property {string} source
 * @property {string} reason
 * @property {number | null} ends_at
 *
 * @typedef {object} PlanSlot
 * @property {number} start
 * @property {number} end
 * @property {"normal" | "hold" | "charge" | "export"} action
 * @property {number} grid_charge_w
 * @property {number} export_w
 * @property {number} soc_end_pct
 * @property {number} import_price
 * @property {boolean} estimated
 *
 * @typedef {object} PlanView
 * @property {string} tariff
 * @property {string} currency
 * @property {boolean} planner
 * @property {number | null} price_now
 * @property {{start: number, end: number, import: number, export: number}[]} prices
 * @property {{source: string, last_ok: number | null, error: string | null, known_until: number | null} | null} feed
 * @property {{source: string, last_ok: number | null, error: string | null, known_until: number | null, today_kwh: number, tomorrow_kwh: number, used: boolean, pv_history: "measured" | "forecasts" | null, history_days: number} | null} pv_forecast
 * @property {{made_at: number, until: number, expected_cost: number, zero_export_cost: number, slots: PlanSlot[], reasons: string[], hedge: string | null} | null} plan
 * @property {IntentPayload} battery_mode
 * @property {{mode: string, expires_at: number, who: string} | null} external
 * @property {string | null} error
 *
 * @typedef {object} ScheduleEntry
 * @property {string} hours
 * @property {string} days
 * @property {string} mode
 * @property {number} soc_pct
 * @property {number | null} power_w
 * @property {string} name
 *
 * @typedef {object} HistoryPayload
 * @property {number} resolution_s
 * @property {number[]} t
 * @property {(number | null)[]} grid_w
 * @property {(number | null)[]} battery_w
 * @property {(number | null)[]} soc_pct
 * @property {(number | null)[]} house_w
 * @property {(number | null)[]} pv_w
 * @property {(number | null)[]} grid_a_w
 * @property {(number | null)[]} grid_b_w
 * @property {(number | null)[]} grid_c_w
 *
 * @typedef {object} DayPayload
 * @property {string} day
 * @property {number} import_wh
 * @property {number} export_wh
 * @property {number} charged_wh
 * @property {number} discharged_wh
 * @property {number | null} self_sufficiency
 *
 * @typedef {object} EventPayload
 * @property {number} at
 * @property {string} kind
 * @property {string} message
 *
 * @typedef {object} LogPayload
 * @property {number} seq
 * @property {number} at
 * @property {string} level
 * @property {string} logger
 * @property {string} message
 *
 * @typedef {object} Session
 * @property {boolean} auth_required
 * @property {boolean} logged_in
 * @property {boolean} can_read
 * @property {boolean} can_write
 * @property {boolean} demo
 * @property {string | null} csrf_token
 */

export {};
